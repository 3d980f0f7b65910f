"""OTLP bodies decoded in worker processes: the same records and refusals as decoding in the receiver's thread,
each reply to its own request under concurrency, and a worker that dies, hangs or cannot start costs the
requests it had (never an acknowledged span), is started again, and never outlives the collector."""

from __future__ import annotations

import gzip
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector_runtime.sources.otlp import OtlpPayloadError, SpanRecords, decode_export
from collector_runtime.sources.otlp import decode_workers as workers_module
from collector_runtime.sources.otlp.decode_workers import Decoded, DecodeWorkers, WorkerEnded
from tests.otlp_builders import PROTOBUF, body, export, fixture, span
from tests.sources.otlp_http import ACTION_MAP, LIMIT, receiving, request
from tests.sources.test_otlp_receiver import FIXTURES, headers_of

ROOT = Path(__file__).resolve().parents[2]


def workers(count: int = 1, **options: float) -> DecodeWorkers:
    started = DecodeWorkers(ACTION_MAP, workers=count, max_bytes=LIMIT, workload_attribute=None, **options)
    started.start()
    return started


@pytest.fixture(scope="module")
def shared() -> Iterator[DecodeWorkers]:
    started = workers(2)
    yield started
    started.stop()


def in_thread(data: bytes, content_type: str | None, encoding: str | None) -> Decoded:
    export_ = decode_export(data, content_type, encoding, max_bytes=LIMIT)
    return Decoded(SpanRecords(ACTION_MAP).calls(export_), export_.ignored, export_.rejected, export_.unreadable)


def alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"  # a zombie has ended


def wait_until_ended(pid: int) -> None:
    deadline = time.monotonic() + 10
    while alive(pid) and time.monotonic() < deadline:
        time.sleep(0.02)
    assert not alive(pid)


@pytest.mark.parametrize("name", FIXTURES)
def test_a_worker_makes_the_records_the_receivers_thread_makes(shared: DecodeWorkers, name: str) -> None:
    data, content_type, encoding = fixture(name)
    decoded = shared.decode(data, content_type, encoding)
    assert decoded == in_thread(data, content_type, encoding)
    assert len(decoded.calls) == 35 and all(call.resources is not None for call in decoded.calls)


def test_counts_of_other_and_unusable_spans_come_back(shared: DecodeWorkers) -> None:
    other = span()
    del other.attributes[:]
    data = body(export(span("S3", "ListBuckets"), other, span("S3", "")))
    decoded = shared.decode(data, PROTOBUF, None)
    assert (len(decoded.calls), decoded.ignored, decoded.rejected) == (1, 1, 1)
    assert decoded == in_thread(data, PROTOBUF, None)


@pytest.mark.parametrize(
    ("data", "content_type", "encoding", "status"),
    [
        (b"\xff\xff\xff", PROTOBUF, None, 400),
        (b"{not json", "application/json", None, 400),
        (b"", "text/plain", None, 415),
        (b"", PROTOBUF, "br", 415),
        (gzip.compress(b"\0" * (LIMIT + 1), mtime=0), PROTOBUF, "gzip", 413),
    ],
    ids=["protobuf", "json", "media-type", "encoding", "gzip-bomb"],
)
def test_a_refused_body_raises_what_the_receivers_thread_raises(
    shared: DecodeWorkers, data: bytes, content_type: str, encoding: str | None, status: int
) -> None:
    with pytest.raises(OtlpPayloadError) as here:
        in_thread(data, content_type, encoding)
    with pytest.raises(OtlpPayloadError) as there:
        shared.decode(data, content_type, encoding)
    assert (type(there.value), there.value.status, str(there.value)) == (type(here.value), status, str(here.value))


def outcome(decode: object, *args: object) -> object:
    """What a decode gives: its Decoded, or its refusal's type, status and message."""
    try:
        return decode(*args)  # type: ignore[operator]
    except OtlpPayloadError as error:
        return (type(error), error.status, str(error))


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    data=st.one_of(
        st.binary(max_size=600),
        st.sampled_from([fixture(name)[0] for name in FIXTURES]).map(lambda whole: whole[: len(whole) // 2]),
    ),
    content_type=st.one_of(st.none(), st.sampled_from([PROTOBUF, "application/json", "text/plain"]), st.text()),
    encoding=st.one_of(st.none(), st.sampled_from(["gzip", "br", "identity"]), st.text(max_size=8)),
)
def test_any_request_gives_in_a_worker_what_it_gives_in_the_receivers_thread(
    shared: DecodeWorkers, data: bytes, content_type: str | None, encoding: str | None
) -> None:
    assert outcome(shared.decode, data, content_type, encoding) == outcome(in_thread, data, content_type, encoding)


def test_each_of_many_threads_gets_the_reply_to_its_own_request(shared: DecodeWorkers) -> None:
    """Requests are pipelined (sent before the replies before them are read): each thread must still read its own."""
    bodies = [body(export(span("S3", "ListBuckets"), resource={"service.name": f"w{i}"})) for i in range(8)]
    wrong: list[str] = []

    def send(index: int) -> None:
        for _ in range(25):
            calls = shared.decode(bodies[index], PROTOBUF, None).calls
            if [call.workload for call in calls] != [f"w{index}"]:
                wrong.append(f"thread {index} got {[call.workload for call in calls]}")

    threads = [threading.Thread(target=send, args=(index,)) for index in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert wrong == [] and not any(thread.is_alive() for thread in threads)


def test_a_worker_killed_while_idle_is_started_again_for_the_next_request() -> None:
    data, content_type, encoding = fixture(FIXTURES[0])
    pool = workers()
    try:
        (first,) = pool.pids
        os.kill(first, signal.SIGKILL)
        wait_until_ended(first)
        assert len(pool.decode(data, content_type, encoding).calls) == 35
        assert pool.restarts == 1 and pool.pids != [first]
    finally:
        pool.stop()


def test_a_worker_that_ends_or_hangs_with_a_request_fails_only_that_request() -> None:
    data, content_type, encoding = fixture(FIXTURES[0])
    pool = workers(reply_timeout=1.0)
    try:
        (hung,) = pool.pids
        os.kill(hung, signal.SIGSTOP)  # a worker that never answers: killed after the reply timeout
        with pytest.raises(WorkerEnded, match="did not answer within 1 s"):
            pool.decode(data, content_type, encoding)
        assert not alive(hung)
        assert len(pool.decode(data, content_type, encoding).calls) == 35  # a new worker took it
        (killed,) = pool.pids
        os.kill(killed, signal.SIGSTOP)
        failed: list[BaseException] = []
        waiting = threading.Thread(target=lambda: _catch(failed, pool, data, content_type, encoding))
        waiting.start()
        time.sleep(0.2)  # the request is with the stopped worker
        os.kill(killed, signal.SIGKILL)
        waiting.join(10)
        assert [type(error) for error in failed] == [WorkerEnded]
        assert len(pool.decode(data, content_type, encoding).calls) == 35 and pool.restarts == 2
    finally:
        pool.stop()


def _catch(failed: list[BaseException], pool: DecodeWorkers, *args: object) -> None:
    try:
        pool.decode(*args)  # type: ignore[arg-type]
    except WorkerEnded as error:
        failed.append(error)


def test_a_worker_ignores_sigint_and_sigterm_and_stop_ends_it() -> None:
    """A Ctrl-C or a SIGTERM to the process group leaves the worker to the collector, which ends it on stop."""
    data, content_type, encoding = fixture(FIXTURES[0])
    pool = workers()
    (pid,) = pool.pids
    os.kill(pid, signal.SIGINT)
    os.kill(pid, signal.SIGTERM)
    assert len(pool.decode(data, content_type, encoding).calls) == 35 and pool.pids == [pid]
    pool.stop()
    assert not alive(pid) and pool.pids == []
    with pytest.raises(WorkerEnded, match="stopping"):  # a request after the stop starts no process
        pool.decode(data, content_type, encoding)


def test_a_worker_ends_when_the_collector_dies() -> None:
    script = textwrap.dedent(
        """
        import sys, time
        from collector_runtime.data import load_action_map
        from collector_runtime.sources.otlp.decode_workers import DecodeWorkers
        if __name__ == "__main__":
            pool = DecodeWorkers(load_action_map(), workers=1, max_bytes=1 << 20, workload_attribute=None)
            pool.start()
            print(pool.pids[0], flush=True)
            time.sleep(60)
        """
    )
    collector = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    assert collector.stdout is not None
    worker = int(collector.stdout.readline())
    assert alive(worker)
    collector.kill()
    collector.wait(10)
    wait_until_ended(worker)


class _Unloadable:
    """An action map whose copy cannot be made in the worker: the worker ends before it is ready."""

    def __reduce__(self) -> tuple[object, tuple[()]]:
        return (_explode, ())


def _explode() -> None:
    raise RuntimeError("cannot load")


def test_a_worker_that_cannot_start_is_an_error_and_the_port_is_closed() -> None:
    with pytest.raises(WorkerEnded, match="did not start"):
        DecodeWorkers(_Unloadable(), workers=1, max_bytes=LIMIT, workload_attribute=None).start()  # type: ignore[arg-type]
    from collector_runtime.sources.otlp.receiver import OtlpReceiver

    receiver = OtlpReceiver("127.0.0.1", 0, _Unloadable(), print, max_request_bytes=LIMIT, decode_workers=1)  # type: ignore[arg-type]
    port = receiver.address[1]
    with pytest.raises(WorkerEnded):
        receiver.start()
    with pytest.raises(ConnectionRefusedError):  # nothing listens there any more
        socket.create_connection(("127.0.0.1", port), timeout=5)


def test_the_receiver_with_workers_answers_503_when_a_worker_ends_and_serves_on(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(workers_module, "REPLY_TIMEOUT", 1.0)
    data, headers = headers_of(FIXTURES[0])
    with receiving(decode_workers=1) as (receiver, collected):
        port = receiver.address[1]
        assert request(port, data, headers)[0] == 200
        assert receiver.workers is not None
        (pid,) = receiver.workers.pids
        os.kill(pid, signal.SIGSTOP)
        status, reply_headers, _ = request(port, data, headers)
        assert (status, reply_headers.get("retry-after")) == (503, "1")
        assert request(port, data, headers)[0] == 200
        counters = receiver.counters.as_dict()
    assert counters["refused_reasons"] == {"decode_worker_ended": 1}
    assert counters["requests_accepted"] == 2 and len(collected.calls) == 70  # the refused request added nothing
    assert not alive(pid)


def test_a_worker_that_cannot_start_again_is_retried_after_a_pause_not_at_every_request(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """If the machine cannot start a worker (out of memory, a broken install), requests get 503 at once until
    the pause is over: no process started per request, and the death is logged once."""
    data, content_type, encoding = fixture(FIXTURES[0])
    pool = workers()
    attempts: list[object] = []

    def cannot_start(setup: object) -> object:
        attempts.append(setup)
        raise WorkerEnded("a decode worker did not start (exit code 1)")

    try:
        (pid,) = pool.pids
        os.kill(pid, signal.SIGKILL)
        wait_until_ended(pid)
        monkeypatch.setattr(workers_module, "_spawn", cannot_start)
        for _ in range(5):
            with pytest.raises(WorkerEnded):
                pool.decode(data, content_type, encoding)
        assert len(attempts) == 1 and pool.restarts == 1
        assert len([r for r in caplog.records if "decode worker" in r.getMessage()]) == 1
        monkeypatch.undo()
        time.sleep(workers_module.RESTART_PAUSE)
        assert len(pool.decode(data, content_type, encoding).calls) == 35  # started again after the pause
    finally:
        pool.stop()


def test_a_worker_the_system_cannot_create_is_worker_ended_not_a_crash(monkeypatch: pytest.MonkeyPatch) -> None:
    """fork/exec failing (no memory, the process limit) is the same as a worker that could not start."""

    def no_process(*args: object, **kwargs: object) -> None:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(workers_module.subprocess, "Popen", no_process)
    pool = DecodeWorkers(ACTION_MAP, workers=1, max_bytes=LIMIT, workload_attribute=None)
    with pytest.raises(WorkerEnded, match=r"could not be started .*Resource temporarily unavailable"):
        pool.start()
