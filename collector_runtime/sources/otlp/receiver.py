"""The OTLP/HTTP traces receiver: `POST /v1/traces` in, call records handed to the collector's loop.

A thin adapter around the pure decoder (stdlib `http.server`, one thread per connection, in the
background). Each request: read the body within `max_request_bytes` (`Content-Length` or chunked),
decode it (`decode_export`: protobuf or JSON, gzip), turn the AWS SDK spans into records
(`SpanRecords`), hand them to `submit` (the collector's loop takes them from there), and only then
answer with OTLP's success response, so a span acknowledged is never lost on a clean stop. A body
that is not an export gets 400 (415 for another media type, 413 past the size), and is counted;
nothing a sender sends ends the receiver. Attribute values are never logged: a refusal is logged
once per reason, with the sender's address and what was wrong, never what the body held.

Bounded: at most MAX_CONNECTIONS connections (further ones are closed at once and counted), an
idle or slow connection is closed after IDLE_TIMEOUT seconds, and while the loop has more than
MAX_BACKLOG batches not yet taken, requests get 503 (OTLP exporters retry it).
"""

from __future__ import annotations

import logging
import socket
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from collector_runtime.contract import OTLP_TRACES_PATH
from collector_runtime.core.records import ObservedCall

from .calls import Catalog, SpanRecords
from .counters import OtlpCounters
from .http_io import BodyError, read_body, status_body, success_body
from .payload import PROTOBUF, OtlpPayloadError, media_kind
from .spans import decode_export

log = logging.getLogger("csm_collector")
Submit = Callable[[list[ObservedCall]], None]
Allowed = Callable[[str], bool]
MAX_CONNECTIONS = 256
IDLE_TIMEOUT = 15.0  # seconds a connection may stay silent (between requests, or in the middle of one)
MAX_BACKLOG = 512  # batches handed to the loop and not yet taken: beyond, answer 503
STOP_TIMEOUT = 10.0  # seconds a clean stop waits for requests being handled


class OtlpReceiver:
    """Serves OTLP/HTTP on (host, port) from a background thread until `stop()`."""

    def __init__(
        self,
        host: str,
        port: int,
        catalog: Catalog,
        submit: Submit,
        *,
        max_request_bytes: int,
        workload_attribute: str | None = None,
        allowed: Allowed | None = None,
        backlog: Callable[[], int] | None = None,
    ) -> None:
        self.records = SpanRecords(catalog)
        self.submit = submit
        self.max_request_bytes = max_request_bytes
        self.workload_attribute = workload_attribute
        self.allowed = allowed
        self.backlog = backlog
        self.counters = OtlpCounters()
        self._lock = threading.Lock()
        self._handling = 0
        self._idle = threading.Condition(self._lock)
        self.stopping = False
        self._server = _Server(host, port, self)
        self._thread = threading.Thread(target=self._server.serve_forever, args=(0.1,), name="csm-otlp", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        host, port = self._server.server_address[:2]
        return str(host), int(port)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        """Stop accepting, answer 503 to further requests on open connections, and wait (bounded) until the
        requests being handled have submitted their records."""
        self.stopping = True
        self._server.shutdown()
        self._server.server_close()
        with self._idle:
            self._idle.wait_for(lambda: self._handling == 0, timeout=STOP_TIMEOUT)

    def handle(self, body: bytes, content_type: str | None, content_encoding: str | None) -> int:
        """One request's body: decoded, submitted, counted. Returns the spans refused as unusable
        (for partial_success); raises OtlpPayloadError for a body that is no export."""
        export = decode_export(
            body,
            content_type,
            content_encoding,
            max_bytes=self.max_request_bytes,
            workload_attribute=self.workload_attribute,
        )
        calls = self.records.calls(export)
        if calls:
            self.submit(calls)
        self.counters.accepted(len(body), len(calls), export.ignored, export.rejected)
        return export.rejected

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


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    request_queue_size = 128

    def __init__(self, host: str, port: int, receiver: OtlpReceiver) -> None:
        self.address_family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.receiver = receiver
        self.slots = threading.BoundedSemaphore(MAX_CONNECTIONS)
        super().__init__((host, port), _Handler)

    def verify_request(self, request: Any, client_address: Any) -> bool:
        peer = str(client_address[0])
        if self.receiver.allowed is not None and not self.receiver.allowed(peer):
            self.receiver.counters.refused("not_allowed")
            return False
        if not self.slots.acquire(blocking=False):
            self.receiver.counters.refused("too_many_connections")
            return False
        return True

    def process_request_thread(self, request: Any, client_address: Any) -> None:
        try:
            super().process_request_thread(request, client_address)
        finally:
            self.slots.release()


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: exporters reuse their connection
    timeout = IDLE_TIMEOUT
    server: _Server

    def do_POST(self) -> None:
        receiver = self.server.receiver
        if self.path.split("?", 1)[0] != OTLP_TRACES_PATH:
            self._refuse("not_found", 404, "not found: OTLP traces are POSTed to /v1/traces", PROTOBUF)
            return
        kind = _kind_of(self.headers.get("Content-Type"))
        if receiver.stopping or receiver.busy():
            self._refuse("busy", 503, "the collector is busy or stopping: retry later", kind, retry=True)
            return
        receiver.begin()
        try:
            self._export(receiver, kind)
        finally:
            receiver.end()

    def _export(self, receiver: OtlpReceiver, kind: str) -> None:
        try:
            body = read_body(self.rfile, self.headers, receiver.max_request_bytes)
            rejected = receiver.handle(body, self.headers.get("Content-Type"), self.headers.get("Content-Encoding"))
        except BodyError as error:
            self._refuse("malformed", 400, str(error), kind)
        except OtlpPayloadError as error:
            self._refuse(_REASONS.get(error.status, "malformed"), error.status, str(error), kind)
        except OSError:  # timed out or reset in the middle of the body: nothing to answer
            receiver.counters.refused("incomplete")
            self.close_connection = True
        except Exception:  # a bug: this request is lost (counted, logged once), the receiver goes on
            if receiver.counters.refused("internal_error") == 1:
                log.exception("OTLP: internal error while handling a request (counted; the receiver goes on)")
            self._answer(500, *status_body(kind, 500, "internal error"), close=True)
        else:
            self._answer(200, *success_body(kind, rejected))

    def do_GET(self) -> None:
        self._refuse("method_not_allowed", 405, "only POST", PROTOBUF)

    do_PUT = do_DELETE = do_PATCH = do_HEAD = do_GET

    def _refuse(self, reason: str, status: int, detail: str, kind: str, *, retry: bool = False) -> None:
        self.server.receiver.refused(reason, str(self.client_address[0]), detail)
        self._answer(status, *status_body(kind, status, detail[:200]), close=True, retry=retry)

    def _answer(self, status: int, body: bytes, content_type: str, *, close: bool = False, retry: bool = False) -> None:
        """After a refusal the body may be unread: the connection is closed, never read on as a request."""
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        if status == 405:
            self.send_header("Allow", "POST")
        if retry:
            self.send_header("Retry-After", "1")
        if close:
            self.send_header("Connection", "close")
            self.close_connection = True
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        return  # never a line per request (counters instead); refusals are logged by the receiver


_REASONS = {400: "malformed", 413: "too_large", 415: "unsupported_media_type"}


def _kind_of(content_type: str | None) -> str:
    """The encoding to answer in: the request's, protobuf when it has none that OTLP knows."""
    try:
        return media_kind(content_type)
    except OtlpPayloadError:
        return PROTOBUF
