"""Decoding OTLP bodies in worker processes, so that intake is not bounded by one interpreter lock.

Decoding is pure Python (the protobuf parse is a small part; walking the spans' attributes is the rest), and in
one process the receiver's threads share the interpreter lock with HTTP handling and the loop's aggregation:
intake is then at most what one core decodes, less all that runs beside it. With workers, each request's body
is decoded and made into records in a worker process (the same `decode_export` and `SpanRecords`, with the
collector's own action map, given to each worker when it starts), while the collector's process does the rest.
The receiver's thread waits for the records and hands them to the loop as before: a span is acknowledged only
once its record is with the loop.

Each worker has one socket, used directly by the receiver's threads: a thread sends its body (the raw bytes, in a
pickle the collector made) and takes its turn to read the reply, so that the next body is already queued when the
worker finishes one (a pool's manager thread in between would wait for the interpreter lock at every hand-over).
The replies are pickles the worker made; a worker runs the code the collector would otherwise run itself, on the
same input, so it is trusted as much as that code.

A worker is a new interpreter (`python -m` this module; a fork of the threaded collector could copy a lock another
thread holds) in a process group of its own, so a terminal's Ctrl-C reaches only the collector, which ends its
workers after the last request; it ignores SIGINT and SIGTERM (systemd signals the whole unit) and exits when its
socket closes, so also when the collector dies. Its setup (the action map) comes through that socket, so a worker
that dies while starting fails the write instead of blocking it. A worker that ends (killed, out of memory) or
stays silent for `reply_timeout` with a request fails the requests it had (`WorkerEnded`: the receiver answers
503, which exporters retry; none is acknowledged) and is started again for the next one; when one cannot be
started, requests get 503 at once for RESTART_PAUSE before another is tried.
"""

from __future__ import annotations

import gc
import logging
import os
import pickle
import signal
import socket
import subprocess
import sys
import threading
import time
import traceback
from multiprocessing.connection import Connection
from typing import Any, NamedTuple

from collector_runtime.core.records import ObservedCall

from .calls import ActionMapView, Decoded, SpanRecords
from .payload import OtlpPayloadError, PayloadTooLarge, UnsupportedMediaType

log = logging.getLogger("csm_collector")
REPLY_TIMEOUT = 30.0  # seconds a worker may take over one body (it takes milliseconds) before it is killed
START_TIMEOUT = 60.0  # seconds a new worker may take to load the action map
STOP_TIMEOUT = 5.0  # seconds a worker may take to exit once its socket is closed
RESTART_PAUSE = 1.0  # seconds after a worker could not be started before another is tried (503s meanwhile)
_READY, _OK, _REFUSED, _BUG = "ready", "ok", "refused", "bug"
_PAYLOAD_ERRORS: dict[int, type[OtlpPayloadError]] = {413: PayloadTooLarge, 415: UnsupportedMediaType}


class WorkerEnded(Exception):
    """The worker decoding a request ended, or stopped answering, before it replied."""


class DecodeWorkers:
    """`workers` worker processes, each request sent to the one with the fewest requests waiting."""

    def __init__(
        self,
        action_map: ActionMapView,
        *,
        workers: int,
        max_bytes: int,
        workload_attribute: str | None,
        reply_timeout: float | None = None,
    ) -> None:
        setup = (action_map, max_bytes, workload_attribute)
        self._workers = [_Worker(setup, reply_timeout or REPLY_TIMEOUT) for _ in range(workers)]

    def start(self) -> None:
        """Start every worker and wait until each has loaded; WorkerEnded if one cannot."""
        for worker in self._workers:
            worker.start()

    def decode(self, body: bytes, content_type: str | None, content_encoding: str | None) -> Decoded:
        """What `decode_export` and `SpanRecords.calls` make of the body; raises OtlpPayloadError as they do
        (a body that is no export), WorkerEnded, or RuntimeError for a bug in the worker."""
        worker = min(self._workers, key=_Worker.waiting)
        reply = worker.ask(pickle.dumps((content_type, content_encoding, body), pickle.HIGHEST_PROTOCOL))
        return _decoded(pickle.loads(reply))

    @property
    def restarts(self) -> int:
        return sum(worker.restarts for worker in self._workers)

    @property
    def pids(self) -> list[int]:
        return [pid for worker in self._workers if (pid := worker.pid) is not None]

    def stop(self) -> None:
        """End the workers (call when no request is being handled)."""
        for worker in self._workers:
            worker.stop()


class _Link(NamedTuple):
    process: subprocess.Popen[bytes]
    pipe: Connection


class _Worker:
    """One worker process and its socket: requests sent in order, replies read in the same order."""

    def __init__(self, setup: tuple[Any, ...], reply_timeout: float) -> None:
        self._setup, self._reply_timeout = setup, reply_timeout
        self._sending = threading.Lock()  # sending, and starting the process
        self._turns = threading.Condition()  # whose reply is next
        self._sent = self._replied = 0
        self._link: _Link | None = None
        self._stopped = False
        self._start_after = 0.0  # monotonic time before which no new worker is tried (after one failed to start)
        self.restarts = 0

    @property
    def pid(self) -> int | None:
        link = self._link
        return link.process.pid if link is not None else None

    def waiting(self) -> int:
        return self._sent - self._replied

    def start(self) -> None:
        with self._sending:
            self._running()

    def ask(self, message: bytes) -> bytes:
        with self._sending:
            link = self._running()
            try:
                link.pipe.send_bytes(message)
            except OSError as error:
                raise WorkerEnded(f"the decode worker ended ({error})") from None
            turn, self._sent = self._sent, self._sent + 1
        with self._turns:
            self._turns.wait_for(lambda: self._replied == turn)
        try:
            return self._reply(link)
        finally:
            with self._turns:
                self._replied += 1
                self._turns.notify_all()

    def _reply(self, link: _Link) -> bytes:
        try:
            if not link.pipe.poll(self._reply_timeout):
                link.process.kill()  # the requests after this one fail too, at once: its socket closes
                _reap(link.process)  # and the next one starts another worker
                raise WorkerEnded(f"the decode worker did not answer within {self._reply_timeout:g} s")
            return link.pipe.recv_bytes()
        except (EOFError, OSError):
            _reap(link.process)  # its socket closed as it exited: once reaped, the next request starts another
            raise WorkerEnded("the decode worker ended") from None

    def _running(self) -> _Link:
        """The live worker, started (again) if it is not (under `_sending`)."""
        if self._stopped:  # a request come after the receiver's bounded wait on a stop: no new process for it
            raise WorkerEnded("the collector is stopping")
        link = self._link
        if link is not None and link.process.poll() is None:
            return link
        if link is not None:
            self._link = None
            self.restarts += 1
            log.warning("OTLP: a decode worker ended (exit code %s); starting another", link.process.returncode)
            link.pipe.close()
        if time.monotonic() < self._start_after:
            raise WorkerEnded("a decode worker could not be started; trying again in a moment")
        try:
            self._link = link = _spawn(self._setup)
        except WorkerEnded:
            self._start_after = time.monotonic() + RESTART_PAUSE
            raise
        return link

    def stop(self) -> None:
        with self._sending:
            link, self._link, self._stopped = self._link, None, True
        if link is None:
            return
        link.pipe.close()  # the worker reads the end of its socket and exits
        _reap(link.process)


def _spawn(setup: tuple[Any, ...]) -> _Link:
    """A new worker, given its setup through its socket (never on the command line, never through a pipe whose
    other end the collector also holds: a write to a worker that died must fail, not wait) and ready."""
    mine, theirs = socket.socketpair()
    with mine, theirs:
        try:
            process = subprocess.Popen(
                [sys.executable, "-m", __name__, str(theirs.fileno())],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.DEVNULL,  # a worker writes nothing; a traceback goes to the collector's stderr
                pass_fds=[theirs.fileno()],
                env={**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, sys.path))},  # the collector's modules
                process_group=0,  # not in the terminal's group: a Ctrl-C is the collector's to handle
            )
        except OSError as error:  # no memory, the process limit
            raise WorkerEnded(f"a decode worker could not be started ({error})") from None
        pipe = Connection(os.dup(mine.fileno()))
    try:
        pipe.send_bytes(pickle.dumps(setup, pickle.HIGHEST_PROTOCOL))
        ready = pipe.poll(START_TIMEOUT) and pickle.loads(pipe.recv_bytes()) == (_READY,)
    except (EOFError, OSError):
        ready = False
    if not ready:
        process.kill()
        process.wait()
        pipe.close()
        raise WorkerEnded(f"a decode worker did not start (exit code {process.returncode})")
    return _Link(process, pipe)


def _reap(process: subprocess.Popen[bytes]) -> None:
    """Wait (bounded) for a worker to exit, and kill it if it does not."""
    try:
        process.wait(STOP_TIMEOUT)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _decoded(reply: tuple[Any, ...]) -> Decoded:
    kind = reply[0]
    if kind == _OK:
        _, rows, ignored, rejected, unreadable = reply
        return Decoded(list(map(ObservedCall._make, rows)), ignored, rejected, unreadable)
    if kind == _REFUSED:
        _, status, message = reply
        raise _PAYLOAD_ERRORS.get(status, OtlpPayloadError)(message)
    raise RuntimeError(f"the decode worker failed: {reply[1]}")


# In the worker process.


def main() -> None:
    """A worker process: `python -m collector_runtime.sources.otlp.decode_workers FD` (started by `_spawn`)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the collector ends its workers on a stop, after its last request
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    pipe = Connection(int(sys.argv[1]))
    try:
        action_map, max_bytes, attribute = pickle.loads(pipe.recv_bytes())
        records = SpanRecords(action_map)
        gc.freeze()  # the action map lives as long as the worker: no collection scans it again (as listen does)
        pipe.send_bytes(pickle.dumps((_READY,)))
        while True:
            content_type, content_encoding, body = pickle.loads(pipe.recv_bytes())
            reply = _decode(records, body, content_type, content_encoding, max_bytes=max_bytes, attribute=attribute)
            pipe.send_bytes(pickle.dumps(reply, pickle.HIGHEST_PROTOCOL))
    except (EOFError, OSError):  # the collector closed the socket, or ended
        return


def _decode(
    records: SpanRecords,
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    *,
    max_bytes: int,
    attribute: str | None,
) -> tuple[Any, ...]:
    try:
        decoded = records.decode(
            body, content_type, content_encoding, max_bytes=max_bytes, workload_attribute=attribute
        )
    except OtlpPayloadError as error:
        return (_REFUSED, error.status, str(error))
    except Exception:  # a bug: reported to the collector, which counts it; the worker goes on
        return (_BUG, traceback.format_exc(limit=-3))
    rows = list(map(tuple, decoded.calls))  # plain tuples pickle at a third of a named tuple's cost
    return (_OK, rows, decoded.ignored, decoded.rejected, decoded.unreadable)


if __name__ == "__main__":
    main()
