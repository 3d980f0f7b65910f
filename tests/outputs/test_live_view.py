from __future__ import annotations

import io
from pathlib import Path

from collector_runtime.outputs.live_view import LiveView
from collector_runtime.pipeline import Pipeline
from tests.conftest import call, datagram
from tests.helpers import otlp_collector, wait_for
from tests.otlp_builders import PROTOBUF, body, export, span
from tests.sources.otlp_http import request


def test_live_view_prints_new_actions_once_and_a_status_line(pipeline: Pipeline) -> None:
    out = io.StringIO()
    view = LiveView(out, is_tty=False, refresh=0.5, status_interval=10.0)
    pipeline.receive_datagram(
        datagram(call("S3", "GetObject"), call("S3", "Teleport"), call("Lambda", "CreateFunction"))
    )
    view.update(100.0, pipeline.aggregator, {**pipeline.counters(), "kernel_receive_drops": 0})
    text = out.getvalue()
    assert "+ app" in text and "s3:GetObject" in text
    assert "? app" in text and "S3.Teleport" in text
    assert "~ app" in text and "iam:PassRole" in text
    assert "workloads 1" in text and "kernel drops 0" in text
    for second in range(1, 30):  # no new actions: status at most every 10 s, never per event
        pipeline.receive_datagram(datagram(call("S3", "GetObject")))
        view.update(100.0 + second * 0.1, pipeline.aggregator, pipeline.counters())
    assert out.getvalue().count("s3:GetObject ") == 1
    assert out.getvalue().count("[csm-collector]") == 1


def test_live_view_on_a_terminal_rewrites_the_status_line(pipeline: Pipeline) -> None:
    out = io.StringIO()
    view = LiveView(out, is_tty=True)
    pipeline.receive_datagram(datagram(call("S3", "GetObject")))
    view.update(1.0, pipeline.aggregator, {})
    view.update(1.1, pipeline.aggregator, {})  # within the refresh interval: nothing
    view.update(2.0, pipeline.aggregator, {})
    assert out.getvalue().count("\r\x1b[K[csm-collector]") == 2


def test_the_status_line_shows_what_access_control_dropped(pipeline: Pipeline) -> None:
    from collector_runtime.outputs.live_view import status_line

    counters = {**pipeline.counters(), "access": {"dropped_not_allowed": 1234, "dropped_rate_limited": 5}}
    assert "| not allowed 1,234 | rate limited 5" in status_line(pipeline.aggregator, counters, 0.0)
    assert "not allowed" not in status_line(pipeline.aggregator, pipeline.counters(), 0.0)  # no access control


def test_the_status_line_of_a_run_with_only_otlp_input_shows_its_records(tmp_path: Path) -> None:
    out = io.StringIO()
    with otlp_collector(tmp_path, view=LiveView(out, is_tty=False)) as (service, port):
        data = body(export(span("S3", "ListBuckets"), span("SQS", "ListQueues"), span("S3", "")))
        assert request(port, data, {"Content-Type": PROTOBUF})[0] == 200
        assert wait_for(lambda: service.aggregator.stats.calls == 2)
    status = out.getvalue().splitlines()[-1]  # the last status line, written at the stop
    assert "| records 3 (" in status and "| calls 2 |" in status and "| rejected 1" in status
    assert "datagrams" not in status and "otlp" not in status  # one source: no breakdown


def test_the_status_line_shows_each_sources_records_when_more_than_one_runs(pipeline: Pipeline) -> None:
    from collector_runtime.outputs.live_view import status_line

    pipeline.receive_datagram(datagram(call("S3", "GetObject")))
    pipeline.receive_datagram(b"junk")
    otlp = {"records_received": 1234, "rejected": 5}
    counters = {**pipeline.counters(), "records_received": 1236, "rejected": 6, "otlp": otlp, "kernel_receive_drops": 0}
    counters["csm"]["access"] = {"dropped_not_allowed": 7, "dropped_rate_limited": 0}
    line = status_line(pipeline.aggregator, counters, 3.0)
    assert "| records 1,236 (3/s: csm 2, otlp 1,234) |" in line
    assert "| rejected 6 |" in line and "| not allowed 7 |" in line and line.endswith("| kernel drops 0")
