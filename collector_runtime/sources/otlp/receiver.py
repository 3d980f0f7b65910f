"""The OTLP/HTTP traces receiver: `POST /v1/traces` in, call records handed to the collector's loop.

A thin adapter around the pure decoder (stdlib `http.server`, one thread per connection, in the
background). Each request: read the body within `max_request_bytes` (`Content-Length` or chunked),
decode it (`decode_export`: protobuf or JSON, gzip), turn the AWS SDK spans into records
(`SpanRecords`) — both in a decode worker process (`decode_workers`), or with none in the handler's
thread — hand them to `submit` (the collector's loop takes them from there), and only then
answer with OTLP's success response, so a span acknowledged is never lost on a clean stop. A body
that is not an export gets 400 (415 for another media type, 413 past the size), and is counted;
nothing a sender sends ends the receiver. Attribute values are never logged: a refusal is logged
once per reason, with the sender's address and what was wrong, never what the body held.

Bounded (see `connections`): at most MAX_CONNECTIONS connections, MAX_CONNECTIONS_PER_ADDRESS from one
address (past it, that address's longest-reading connection is closed); at capacity the connection that has
been reading the longest (for EVICT_AFTER at least) is closed for a new one, else the new one is closed and
counted; a request must arrive whole (headers and body) within REQUEST_TIMEOUT of its first byte; a silent
connection is closed after IDLE_TIMEOUT; while the loop has more than MAX_BACKLOG batches not yet taken,
requests get 503 (OTLP exporters retry it). An aborted request is counted `incomplete`, logged once per cause.

Why the stdlib server and not another: the defects slow clients exploit are in connection management
(deadlines, caps, eviction), which a parser such as h11 leaves to its caller, and the asyncio servers
(uvicorn, hypercorn, aiohttp) bring a new dependency and event loop without per-address caps or eviction
either; the framing http.server leaves to us (`http_io`) is small and bounded, so a supervisor of the
threaded server (`connections`) fixes the defects with no new dependency.
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from http.server import ThreadingHTTPServer
from typing import Any

from collector_runtime.core.records import ObservedCall

from .calls import ActionMapView, Decoded, SpanRecords
from .connections import Connections, Limits
from .counters import OtlpCounters
from .decode_workers import DecodeWorkers, WorkerEnded
from .handler import IDLE_TIMEOUT, Handler

log = logging.getLogger("csm_collector")
Submit = Callable[[list[ObservedCall]], None]
Allowed = Callable[[str], bool]
MAX_CONNECTIONS = 256
MAX_CONNECTIONS_PER_ADDRESS = 64
REQUEST_TIMEOUT = 10.0  # seconds from a request's first byte to the end of its body
EVICT_AFTER = 1.0  # at capacity, a connection reading for this long gives way to a new one
MAX_BACKLOG = 512  # batches handed to the loop and not yet taken: beyond, answer 503
STOP_TIMEOUT = 10.0  # seconds a clean stop waits for requests being handled


class OtlpReceiver:
    """Serves OTLP/HTTP on (host, port) from a background thread until `stop()`."""

    def __init__(
        self,
        host: str,
        port: int,
        action_map: ActionMapView,
        submit: Submit,
        *,
        max_request_bytes: int,
        workload_attribute: str | None = None,
        allowed: Allowed | None = None,
        backlog: Callable[[], int] | None = None,
        decode_workers: int = 0,
    ) -> None:
        self.records = SpanRecords(action_map)
        self.submit = submit
        self.max_request_bytes = max_request_bytes
        self.workload_attribute = workload_attribute
        self.allowed = allowed
        self.backlog = backlog
        self.counters = OtlpCounters()
        self._lock = threading.Lock()
        self._handling = 0
        self._idle = threading.Condition(self._lock)
        self._causes_logged: set[str] = set()
        # One body decoded at a time: decoding is pure Python, so two handler threads decoding at once only take
        # the GIL from each other (a forced switch every 5 ms, each costing both); one waiting here holds no GIL.
        self._decoding = threading.Lock()
        self.workers: DecodeWorkers | None = None  # decode_workers=0: bodies are decoded in the handlers' threads
        if decode_workers:
            self.workers = DecodeWorkers(
                action_map, workers=decode_workers, max_bytes=max_request_bytes, workload_attribute=workload_attribute
            )
        self.stopping = False
        self._server = _Server(host, port, self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="csm-otlp", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        """Start the decode workers, then serve; WorkerEnded (the port closed) if a worker cannot start."""
        if self.workers is not None:
            try:
                self.workers.start()
            except WorkerEnded:
                self.workers.stop()
                self._server.server_close()
                raise
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, answer 503 to further requests on open connections, and wait (bounded) until the
        requests being handled have submitted their records."""
        self.stopping = True
        self._server.shutdown()
        self._server.server_close()
        with self._idle:
            self._idle.wait_for(lambda: self._handling == 0, timeout=STOP_TIMEOUT)
        if self.workers is not None:
            self.workers.stop()

    def handle(self, body: bytes, content_type: str | None, content_encoding: str | None) -> int:
        """One request's body: decoded, submitted, counted. Returns the spans refused as unusable
        (for partial_success); raises OtlpPayloadError for a body that is no export, WorkerEnded when the
        worker decoding it ended first."""
        decode = self.workers.decode if self.workers is not None else self._decode_here
        decoded = decode(body, content_type, content_encoding)
        if decoded.calls:
            self.submit(decoded.calls)
        self.counters.accepted(
            len(body), len(decoded.calls), decoded.ignored, decoded.rejected, unreadable=dict(decoded.unreadable)
        )
        return decoded.rejected

    def _decode_here(self, body: bytes, content_type: str | None, content_encoding: str | None) -> Decoded:
        with self._decoding:
            return self.records.decode(
                body,
                content_type,
                content_encoding,
                max_bytes=self.max_request_bytes,
                workload_attribute=self.workload_attribute,
            )

    def busy(self) -> bool:
        return self.backlog is not None and self.backlog() > MAX_BACKLOG

    def begin(self) -> None:
        with self._lock:
            self._handling += 1

    def end(self) -> None:
        with self._idle:
            self._handling -= 1
            self._idle.notify_all()

    def refused(self, reason: str, peer: str, detail: str) -> None:
        if self.counters.refused(reason) == 1:
            log.warning("OTLP: refused a request from %s (%s: %s); further ones are only counted", peer, reason, detail)

    def incomplete(self, peer: str, cause: str) -> None:
        """A request aborted before its end (nobody to answer): counted `incomplete`, logged once per cause."""
        self.counters.refused("incomplete")
        with self._lock:
            first = cause not in self._causes_logged
            self._causes_logged.add(cause)
        if first:
            log.warning("OTLP: a request from %s was incomplete (%s); further ones are only counted", peer, cause)

    def internal_error(self) -> None:
        """Called while handling an exception nothing expected (a bug): counted, its traceback logged once."""
        if self.counters.refused("internal_error") == 1:
            log.exception("OTLP: internal error while handling a request (counted; the receiver goes on)")


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, receiver: OtlpReceiver) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.receiver = receiver
        limits = Limits(MAX_CONNECTIONS, MAX_CONNECTIONS_PER_ADDRESS, REQUEST_TIMEOUT, IDLE_TIMEOUT, EVICT_AFTER)
        self.connections = Connections(limits)
        super().__init__((host, port), _Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        peer = str(client_address[0])
        if self.receiver.allowed is not None and not self.receiver.allowed(peer):
            self.receiver.counters.refused("not_allowed")
            return False
        if not self.connections.admit(request, peer):
            self.receiver.counters.refused("too_many_connections")
            return False
        return True

    def service_actions(self) -> None:
        """Every POLL_INTERVAL in the server's thread: end the connections past their deadline."""
        self.connections.reap()

    def shutdown_request(self, request: Any) -> None:
        self.connections.release(request)  # before the socket is closed (its descriptor may be reused)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        """An exception a handler did not expect: counted and logged once, never a traceback per connection."""
        self.receiver.internal_error()


_Handler = Handler
