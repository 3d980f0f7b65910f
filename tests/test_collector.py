"""Real UDP on 127.0.0.1: datagrams in, files out, flush on request, nothing lost on stop."""

from __future__ import annotations

import errno
import gc
import json
import os
import socket
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.collector import CollectorService
from collector_runtime.data import load_action_map
from collector_runtime.frozen_heap import FREEZE_AFTER_ENTRIES, FULL_COLLECTION_SECONDS, FrozenHeap
from collector_runtime.outputs import output_dir as output_dir_module
from collector_runtime.outputs.state_file import restore_state
from collector_runtime.outputs.write_behind import WRITING_SWITCH_INTERVAL
from collector_runtime.settings import ListenOptions, OutputOptions
from collector_runtime.sources.csm.source import CsmSource
from collector_runtime.sources.csm.udp import UdpListener
from collector_runtime.sources.source import DRAIN_LIMIT, Intake
from tests.conftest import attempt, call, datagram, observed
from tests.helpers import policy_actions, read_json, running_collector, send, serving, wait_for


def test_datagrams_become_policy_files_on_flush(tmp_path: Path) -> None:
    with running_collector(tmp_path, flush_interval=3600) as service:
        port = service.sources["csm"].address[1]
        send(port, datagram(attempt("SQS", "SendMessage", "worker"), call("SQS", "SendMessage", "worker")))
        send(port, datagram(call("S3", "ListBuckets", "")))
        assert wait_for(lambda: service.sources["csm"].decoder.counters.datagrams_received == 2)
        service.request_flush()
        assert wait_for(
            lambda: (read_json(tmp_path / "stats.json") or {}).get("csm", {}).get("datagrams_received") == 2
        )
    worker = read_json(tmp_path / "policies" / "worker.json")
    assert policy_actions(worker) == ["sqs:SendMessage"]
    assert policy_actions(read_json(tmp_path / "policies" / "default.json")) == ["s3:ListAllMyBuckets"]
    merged = read_json(tmp_path / "policy.json")
    assert policy_actions(merged) == ["s3:ListAllMyBuckets", "sqs:SendMessage"]


def test_periodic_flush(tmp_path: Path) -> None:
    with running_collector(tmp_path, flush_interval=0.2) as service:
        send(service.sources["csm"].address[1], datagram(call("SNS", "Publish", "notifier")))
        assert wait_for(lambda: (tmp_path / "policies" / "notifier.json").exists(), timeout=5)


def test_stop_drains_everything_already_received(tmp_path: Path) -> None:
    apis = ["GetItem", "PutItem", "Query", "Scan", "DeleteItem", "UpdateItem", "BatchGetItem", "DescribeTable"]
    with running_collector(tmp_path, flush_interval=3600) as service:
        port = service.sources["csm"].address[1]
        for i in range(2000):
            send(port, datagram(call("DynamoDB", apis[i % len(apis)], f"client-{i % 50}")))
    stats = read_json(tmp_path / "stats.json")
    assert stats["csm"]["datagrams_received"] == 2000
    assert stats["csm"]["api_call_events"] == 2000
    assert len(stats["workloads"]) == 50
    assert sorted(policy_actions(read_json(tmp_path / "policy.json"))) == sorted(f"dynamodb:{a}" for a in apis)


def test_hostile_datagrams_are_counted_and_dropped(tmp_path: Path) -> None:
    junk = [b"", b"\x00" * 100, b"{", b"[]", b'{"Type": "ApiCall"}', b"A" * 65000, datagram(call("S3", "Nope"))]
    with running_collector(tmp_path, flush_interval=3600) as service:
        send(service.sources["csm"].address[1], *junk, datagram(call("S3", "GetObject")))
        assert wait_for(lambda: service.sources["csm"].decoder.counters.datagrams_received == len(junk) + 1)
    stats = read_json(tmp_path / "stats.json")
    assert stats["csm"]["events_rejected"] == 6
    assert stats["csm"]["rejected_reasons"] == {"empty": 1, "invalid_fields": 1, "not_an_object": 1, "not_json": 3}
    assert stats["calls_unmapped"] == 1 and stats["unmapped_calls"] == [{"service": "S3", "api": "Nope", "calls": 1}]
    assert policy_actions(read_json(tmp_path / "policies" / "app.json")) == ["s3:GetObject"]


def test_stats_report_the_receive_buffer_and_kernel_drops(tmp_path: Path) -> None:
    with running_collector(tmp_path, flush_interval=3600, receive_buffer=1 << 20):
        pass
    stats = read_json(tmp_path / "stats.json")
    assert stats["csm"]["receive_buffer_requested"] == 1 << 20
    assert stats["csm"]["receive_buffer_granted"] > 0
    assert stats["csm"]["kernel_receive_drops"] == 0


def test_records_from_another_sources_thread_are_handled_and_flushed_at_stop(tmp_path: Path) -> None:
    """What the proxy and the OTLP receiver do: hand records over from their own threads."""
    from collector_runtime.core.records import OTLP, ObservedCall

    call = ObservedCall("traced", OTLP, "SQS", "SendMessage", "eu-west-1", "123456789012")
    late: list[ObservedCall] = []
    with running_collector(tmp_path, flush_interval=3600) as service:
        service.on_stop(lambda: service.submit(late))  # a source's last records, handed over as it stops
        threads = [threading.Thread(target=service.submit, args=([call] * 10,)) for _ in range(5)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        late.append(call)
        assert wait_for(lambda: service.aggregator.stats.calls == 50)
    usage = read_json(tmp_path / "state.json")["workloads"]["traced"]["calls"][0]
    assert usage[:3] == ["SQS", "SendMessage", 51]
    assert policy_actions(read_json(tmp_path / "policies" / "traced.json")) == ["sqs:SendMessage"]


def test_policies_are_rendered_ahead_while_nothing_arrives(tmp_path: Path) -> None:
    with running_collector(tmp_path, flush_interval=3600) as service:
        send(
            service.sources["csm"].address[1],
            datagram(call("SQS", "SendMessage", "worker"), call("S3", "ListBuckets", "batch")),
        )
        assert wait_for(lambda: service.renderer.rendered_ahead == ["batch", "worker"])
        assert not (tmp_path / "policies").exists()  # rendered, not written: that is the flush's job
        service.request_flush()
        assert wait_for(lambda: (tmp_path / "policies" / "worker.json").exists())
        assert service.renderer.rendered_ahead == []


def test_policies_are_rendered_ahead_during_an_unbroken_stream(tmp_path: Path) -> None:
    """The loop's clock is the test's: records arrive every 10 ms of it, never a quiet moment."""
    now = [100.0]
    settings = ListenOptions(port=0, quiet=True, flush_interval=3600, output=OutputOptions(output_dir=tmp_path))
    csm = CsmSource(UdpListener("127.0.0.1", 0, receive_buffer=1 << 20))
    service = CollectorService(settings, load_action_map(), sources=[csm], clock=lambda: now[0])
    with serving(service):
        for index in range(40):  # 400 ms of a stream: worker's policy stands still from the first call on
            now[0] = round(100.0 + index * 0.01, 3)
            sent = datagram(attempt("SQS", "SendMessage", "worker"), call("SQS", "SendMessage", "worker"))
            send(csm.address[1], sent)
            assert wait_for(lambda i=index: service.aggregator.stats.calls == i + 1)  # type: ignore[misc]
        assert wait_for(lambda: service.renderer.rendered_ahead == ["worker"])
        assert not (tmp_path / "policies").exists()


def test_a_restart_from_a_state_with_flat_csm_counters_continues_them(tmp_path: Path) -> None:
    """state.json written before the per-source sections kept CSM's counters at the top of its stats."""
    (tmp_path / "state.json").write_text(
        json.dumps(
            {
                "format": 3,
                "stats": {
                    "calls": 5,
                    "api_call_events": 5,
                    "datagrams_received": 7,
                    "events_rejected": 2,
                    "rejected_reasons": {"not_json": 2},
                },
                "workloads": {},
            }
        )
    )
    settings = ListenOptions(port=0, quiet=True, output=OutputOptions(output_dir=tmp_path))
    csm = CsmSource(UdpListener("127.0.0.1", 0, receive_buffer=1 << 20))
    service = CollectorService(settings, load_action_map(), sources=[csm])
    assert restore_state(service.restore, tmp_path)
    loop = threading.Thread(target=service.run, daemon=True)
    loop.start()
    send(csm.address[1], datagram(call("SQS", "ListQueues", "worker")), b"junk")
    assert wait_for(lambda: csm.decoder.counters.datagrams_received == 9)
    service.request_stop()
    loop.join(timeout=30)
    stats = read_json(tmp_path / "stats.json")
    assert (stats["csm"]["datagrams_received"], stats["csm"]["api_call_events"]) == (9, 6)
    assert stats["csm"]["rejected_reasons"] == {"not_json": 3}
    assert (stats["records_received"], stats["rejected"], stats["calls"]) == (9, 3, 6)
    assert "datagrams_received" not in stats  # one section per source, source-neutral totals at the top


class HeldWrites:
    """The output directory's writes, each held until released (the seam: the atomic write the directory calls),
    so a test sees what the loop does while the files are being written."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, root: Path) -> None:
        self.root = str(root)
        self.started = threading.Event()  # a write reached the disk step
        self.release = threading.Event()
        self.paths: list[str] = []
        real = output_dir_module.atomic_write

        def held(path: str, text: str, **kwargs: Any) -> None:
            self.started.set()
            self.release.wait(20)
            self.paths.append(os.path.relpath(path, self.root))
            real(path, text, **kwargs)

        monkeypatch.setattr(output_dir_module, "atomic_write", held)


@pytest.mark.timeout(60)
def test_the_loop_reads_on_while_a_flush_writes_and_a_flush_meanwhile_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = HeldWrites(monkeypatch, tmp_path)
    switch_interval = sys.getswitchinterval()
    try:
        with running_collector(tmp_path, flush_interval=3600) as service:
            port = service.sources["csm"].address[1]
            send(port, datagram(call("SQS", "SendMessage", "worker")))
            assert wait_for(lambda: service.aggregator.stats.calls == 1)
            service.request_flush()
            assert writes.started.wait(10)  # the flush is writing its first file, and stays there
            assert sys.getswitchinterval() == pytest.approx(WRITING_SWITCH_INTERVAL)  # the writer gets the GIL fast
            send(port, datagram(call("SQS", "ReceiveMessage", "worker"), call("S3", "ListBuckets", "late")))
            assert wait_for(lambda: service.aggregator.stats.calls == 3)  # the loop reads on meanwhile
            service.request_flush()  # two more flushes while the first one still writes: merged, written after it
            assert wait_for(lambda: service.writer.flushes == 2)
            send(port, datagram(call("SQS", "DeleteMessage", "worker")))
            assert wait_for(lambda: service.aggregator.stats.calls == 4)
            service.request_flush()
            assert wait_for(lambda: service.writer.flushes == 3)
            assert not (tmp_path / "stats.json").exists()
            writes.release.set()
            assert wait_for(lambda: (read_json(tmp_path / "stats.json") or {}).get("calls") == 4)
            assert read_json(tmp_path / "stats.json")["flush_count"] == 3  # the latest text of each file
            service.request_flush()
            assert wait_for(lambda: (read_json(tmp_path / "stats.json") or {}).get("flush_count") == 4)
            stats = read_json(tmp_path / "stats.json")
    finally:
        writes.release.set()
    assert policy_actions(read_json(tmp_path / "policies" / "worker.json")) == [
        "sqs:DeleteMessage",
        "sqs:ReceiveMessage",
        "sqs:SendMessage",
    ]
    assert policy_actions(read_json(tmp_path / "policies" / "late.json")) == ["s3:ListAllMyBuckets"]
    first_end = writes.paths.index("stats.json") + 1
    assert writes.paths[0] == "state.json" and "policies/worker.json" in writes.paths[:first_end]
    merged = writes.paths[first_end : writes.paths.index("stats.json", first_end) + 1]  # flushes 2 and 3
    assert merged[0] == "state.json" and merged[-1] == "stats.json" and "policies/late.json" in merged
    assert len(merged) == len(set(merged))  # each file once: the later flush's text replaced the earlier one's
    assert sys.getswitchinterval() == switch_interval  # as it was, once the writes are done
    # The loop's hold (render, hand over) and the time until the files were on disk, both in stats.json.
    assert 0 < stats["previous_flush_ms"] <= stats["previous_flush_write_ms"]


@pytest.mark.timeout(60)
def test_a_stop_waits_for_the_write_in_progress_and_writes_everything(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    writes = HeldWrites(monkeypatch, tmp_path)
    releaser = threading.Timer(0.3, writes.release.set)  # releases the held write once the stop waits on it
    try:
        with running_collector(tmp_path, flush_interval=3600) as service:
            port = service.sources["csm"].address[1]
            send(port, datagram(call("SNS", "Publish", "notifier")))
            assert wait_for(lambda: service.aggregator.stats.calls == 1)
            service.request_flush()
            assert writes.started.wait(10)
            send(port, datagram(call("SNS", "Subscribe", "notifier"), call("KMS", "Decrypt", "crypto")))
            assert wait_for(lambda: service.aggregator.stats.calls == 3)
            releaser.start()
        assert writes.release.is_set()  # the stop returned only after the held write went on
    finally:
        releaser.cancel()
        writes.release.set()
    assert read_json(tmp_path / "stats.json")["calls"] == 3
    assert read_json(tmp_path / "state.json")["workloads"]["crypto"]
    assert policy_actions(read_json(tmp_path / "policies" / "notifier.json")) == ["sns:Publish", "sns:Subscribe"]
    assert writes.paths[-1] == "stats.json"


def test_a_failed_write_keeps_the_files_pending_and_counts_each_flush(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    failing = {"on": True}
    real = output_dir_module.atomic_write

    def write(path: str, text: str, **kwargs: Any) -> None:
        if failing["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        real(path, text, **kwargs)

    monkeypatch.setattr(output_dir_module, "atomic_write", write)
    settings = ListenOptions(port=0, quiet=True, output=OutputOptions(output_dir=tmp_path))
    csm = CsmSource()
    service = CollectorService(settings, load_action_map(), sources=[csm])
    csm.receive(datagram(call("SQS", "SendMessage", "worker")))
    assert not service.flush()
    assert not service.flush()
    assert service.writer.failed_flushes == 2
    failing["on"] = False
    assert service.flush()
    stats = read_json(tmp_path / "stats.json")
    assert stats["output_files_pending"] > 0  # what the failed flushes left, as the last failed write saw it
    assert policy_actions(read_json(tmp_path / "policies" / "worker.json")) == ["sqs:SendMessage"]
    assert service.writer.failed_flushes == 0
    assert service.flush() and read_json(tmp_path / "stats.json")["output_files_pending"] == 0


@pytest.mark.timeout(60)
def test_a_flush_after_the_stop_is_still_written(tmp_path: Path) -> None:
    """What the stop watchdog does when it fires as the loop ends: the writer thread, closed, starts again."""
    with running_collector(tmp_path, flush_interval=3600) as service:
        pass
    assert read_json(tmp_path / "stats.json")["flush_count"] == 1
    assert service.flush()
    assert read_json(tmp_path / "stats.json")["flush_count"] == 2


class _Cycle:
    """An object only the cyclic garbage collector frees (as a closed connection's objects are)."""

    def __init__(self) -> None:
        self.itself = self


def test_garbage_a_flush_froze_is_collected_by_a_later_flush(tmp_path: Path) -> None:
    """A flush freezes what survived it (kept out of later collections), including what becomes cyclic garbage
    later, such as a client's connection open at that moment; a flush FULL_COLLECTION_SECONDS after the last full
    collection collects it (before, it was kept for good: a slow leak in a long-running proxy)."""
    now = [100.0]
    settings = ListenOptions(port=0, quiet=True, flush_interval=3600, output=OutputOptions(output_dir=tmp_path))
    service = CollectorService(settings, load_action_map(), sources=[CsmSource()], clock=lambda: now[0])
    connection = _Cycle()  # alive at the flush
    gone = weakref.ref(connection)
    assert service.flush()
    del connection
    gc.collect()
    assert gone() is not None  # frozen: no collection sees it
    now[0] += FULL_COLLECTION_SECONDS - 1
    assert service.flush() and gone() is not None  # within the interval: still frozen
    now[0] += 1
    assert service.flush()
    assert gone() is None


def _frozen(obj: object) -> bool:
    """Whether the collector froze `obj`: tracked, yet in no generation a collection scans."""
    return gc.is_tracked(obj) and not any(seen is obj for seen in gc.get_objects())


def test_the_state_is_frozen_as_it_grows_before_any_flush(tmp_path: Path) -> None:
    """A fresh collector under a stream learns thousands of operations in its first second, before its first
    flush freezes them: the first full collection then scanned all of them in one pause (20-45 ms measured at
    200,000 datagrams/s, ~6,000 datagrams a full receive buffer could not take). The state is frozen as it
    grows by a quarter, so a full collection scans at most what came since."""
    apis = ["GetItem", "PutItem", "Query", "Scan", "DeleteItem", "UpdateItem", "BatchGetItem", "DescribeTable"]
    with running_collector(tmp_path, flush_interval=3600) as service:
        port = service.sources["csm"].address[1]
        send(port, datagram(call("DynamoDB", "GetItem", "first")))
        assert wait_for(lambda: service.aggregator.stats.calls == 1)
        first = service.aggregator.workloads["first"].usage[("DynamoDB", "GetItem")]
        assert not _frozen(first)  # one operation: nothing to freeze yet
        clients = FREEZE_AFTER_ENTRIES // len(apis) + 1
        for index in range(clients * len(apis)):
            send(port, datagram(call("DynamoDB", apis[index % len(apis)], f"client-{index // len(apis)}")))
        assert wait_for(lambda: service.aggregator.stats.calls == 1 + clients * len(apis))
        assert service.writer.flushes == 0
        assert _frozen(first)
        assert _frozen(service.aggregator.workloads["client-0"].usage[("DynamoDB", "GetItem")])


def test_the_heap_is_frozen_each_time_the_state_grows_by_a_quarter() -> None:
    step = FREEZE_AFTER_ENTRIES
    heap = FrozenHeap(0.0)
    for frozen_at, next_at in ((0, step), (step, 2 * step), (2 * step, 3 * step), (8 * step, 10 * step)):
        if frozen_at:
            heap.grown(frozen_at)
        alive = _Cycle()
        heap.grown(next_at - 1)
        assert not _frozen(alive), (frozen_at, next_at)  # not grown enough to be worth it
        heap.grown(next_at)
        assert _frozen(alive), (frozen_at, next_at)


class _DeepQueue:
    """A polled source whose queue is deeper than a drain reads (CSM's socket under a stream faster than the
    loop takes it), until `caught_up`: each drain reads one record and reports how many were read."""

    name = "deep"

    def __init__(self) -> None:
        self._reader, self._writer = socket.socketpair()
        self._writer.send(b"x")  # never read: the loop always finds the source readable
        self.caught_up = False
        self.drains = 0

    def start(self, intake: Intake) -> None:
        self._intake = intake

    def fileno(self) -> int:
        return self._reader.fileno()

    def drain(self) -> int:
        self._intake.add([observed("SQS", "SendMessage", "worker")])
        self.drains += 1
        return 1 if self.caught_up else DRAIN_LIMIT

    def tick(self, now: float | None) -> None:
        pass

    def stats(self) -> dict[str, Any]:
        return {"records_received": self.drains, "rejected": 0}

    def restore(self, saved: dict[str, Any]) -> None:
        pass

    def stop(self) -> None:
        pass

    def close(self) -> None:
        self._reader.close()
        self._writer.close()


def test_the_loop_renders_ahead_only_once_it_has_caught_up_with_its_sources(tmp_path: Path) -> None:
    """The loop's clock is the test's: 400 ms of a stream the loop is behind on renders nothing ahead (intake
    first); once a drain empties the queue, the duty cycle renders the policy ahead as before."""
    now = [100.0]
    settings = ListenOptions(port=0, quiet=True, flush_interval=3600, output=OutputOptions(output_dir=tmp_path))
    source = _DeepQueue()
    service = CollectorService(settings, load_action_map(), sources=[source], clock=lambda: now[0])
    with serving(service):
        for index in range(40):
            now[0] = round(100.0 + index * 0.01, 3)
            drains = source.drains
            assert wait_for(lambda d=drains: source.drains > d + 2)  # type: ignore[misc]
        assert service.aggregator.stats.calls > 40
        assert service.renderer.rendered_ahead == []
        source.caught_up = True
        for index in range(40, 60):
            now[0] = round(100.0 + index * 0.01, 3)
            drains = source.drains
            assert wait_for(lambda d=drains: source.drains > d + 2)  # type: ignore[misc]
        assert wait_for(lambda: service.renderer.rendered_ahead == ["worker"])
