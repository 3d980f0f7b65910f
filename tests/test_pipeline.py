"""The pipeline: sources' records into the core and the archive; one failure never ends intake."""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.records import ObservedCall
from tests.conftest import CsmPipeline, call, datagram, observed


class Brittle(Aggregator):
    """An aggregator with a bug that only one operation triggers."""

    def add_all(self, calls: Iterable[ObservedCall], count: int = 1, last_ms: int | None = None) -> int:
        batch = list(calls)
        if any(call.operation == "Boom" for call in batch):
            raise RuntimeError("a bug")
        return super().add_all(batch, count, last_ms)


def test_an_exception_is_counted_and_logged_once_and_intake_goes_on(
    action_map: ActionMap, caplog: pytest.LogCaptureFixture
) -> None:
    pipeline = CsmPipeline(Brittle(action_map))
    for _ in range(3):
        pipeline.receive_datagram(datagram(call("S3", "Boom")))
    pipeline.add_calls([observed("S3", "Boom")])
    pipeline.receive_datagram(datagram(call("S3", "GetObject")))
    assert pipeline.counters()["internal_errors"] == 4
    assert caplog.text.count("internal error") == 1 and "RuntimeError: a bug" in caplog.text
    assert pipeline.aggregator.workloads["app"].usage[("S3", "GetObject")].calls == 1


def test_records_go_to_the_aggregator_and_the_archive(action_map: ActionMap) -> None:
    archived: list[ObservedCall] = []
    pipeline = CsmPipeline(Aggregator(action_map), archive=archived.extend)
    pipeline.receive_datagram(datagram(call("SQS", "ListQueues")))
    pipeline.add_calls([observed("SNS", "Publish", source="otlp")])
    pipeline.add_calls([])
    assert [(c.service, c.source) for c in archived] == [("SQS", "csm"), ("SNS", "otlp")]
    assert pipeline.counters()["calls"] == 2


def test_restore_continues_every_counter(action_map: ActionMap) -> None:
    first = CsmPipeline(Aggregator(action_map))
    first.receive_datagram(datagram(call("SQS", "ListQueues")))
    first.receive_datagram(b"junk")
    import json

    from collector_runtime.core.state import StateSnapshots

    state = json.loads(StateSnapshots().render(first.aggregator, first.counters()))
    second = CsmPipeline(Aggregator(action_map))
    second.restore(state)
    assert second.counters() == first.counters()
