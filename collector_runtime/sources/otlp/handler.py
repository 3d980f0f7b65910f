"""One OTLP/HTTP connection (stdlib `http.server`, in its own thread): requests read under the receiver's watch
(`connections`), decoded and answered; nothing a client does, down to closing at any byte, ends in a traceback.

A request's head is read line by line; the end of the stream before its blank line (a client gone, or a
connection the receiver ended: past its deadline, evicted) aborts the request, which is counted `incomplete`
and logged once per cause, never answered. Writing to a client that has gone is not an error either.
"""

from __future__ import annotations

import io
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler
from typing import TYPE_CHECKING, Any

from collector_runtime.contract import OTLP_TRACES_PATH

from .connections import DEADLINE, EVICTED
from .decode_workers import WorkerEnded
from .http_io import BodyError, read_body, status_body, success_body
from .payload import PROTOBUF, OtlpPayloadError, media_kind

if TYPE_CHECKING:
    from .receiver import OtlpReceiver, _Server

MAX_LINE = 65_536  # a request line or header line (as http.server)
IDLE_TIMEOUT = 15.0  # seconds a connection may stay silent (between requests, or in the middle of a read)
_REASONS = {400: "malformed", 413: "too_large", 415: "unsupported_media_type"}
_CAUSES = {
    DEADLINE: "not complete within the deadline for a request",
    EVICTED: "closed to make room for another connection",
    None: "the connection ended in the middle of it",
}


class _Cut(Exception):
    """The stream ended in the middle of a request's head."""


class HeadInput(io.BufferedIOBase):
    """A connection's input: while a request's head is read (`in_head`), a line the stream ends raises _Cut."""

    def __init__(self, raw: io.BufferedReader) -> None:
        super().__init__()
        self.raw = raw
        self.in_head = False

    def readable(self) -> bool:
        return True

    def peek(self, size: int = 1) -> bytes:
        return self.raw.peek(size)

    def read(self, size: int | None = -1, /) -> bytes:
        return self.raw.read(size)

    def readline(self, size: int | None = -1, /) -> bytes:
        line = self.raw.readline(size)
        if self.in_head and not line.endswith(b"\n") and (size is None or size < 0 or len(line) < size):
            raise _Cut
        return line


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive: exporters reuse their connection
    timeout = IDLE_TIMEOUT  # per read or write; the receiver's deadline bounds a whole request
    # An answer leaves in one write (buffered, flushed once per request) with Nagle off: headers and body written
    # apart would wait for the exporter's delayed ACK (~40 ms per request on a keep-alive connection).
    wbufsize = -1
    disable_nagle_algorithm = True
    # A request whole in one read: the default 8 KiB buffer takes an exporter's head and the start of its body, and
    # the rest of the body costs another read (with a timeout set, a poll and a recv, each giving up the GIL).
    rbufsize = 1 << 16
    server: _Server

    def setup(self) -> None:
        super().setup()
        self.watch = self.server.connections.watch(self.request)
        assert isinstance(self.rfile, io.BufferedReader)
        self.input = HeadInput(self.rfile)
        self.rfile = self.input

    def handle(self) -> None:
        try:
            super().handle()
        except OSError:  # reset, or timed out while answering: nothing more can be said on this connection
            self.close_connection = True

    def handle_one_request(self) -> None:
        try:
            self._one_request()
        finally:
            self.wfile.flush()  # the answer, if any, in one write

    def _one_request(self) -> None:
        """http.server's, with the request's states told to the receiver and a head cut short counted."""
        self.close_connection = True
        connections = self.server.connections
        connections.waiting(self.watch)
        try:
            started = self.input.peek(1)
        except OSError:  # silent for IDLE_TIMEOUT, or reset, between requests
            return
        if not started:  # closed between requests (by the client, or ended while idle)
            return
        try:
            connections.reading(self.watch)  # the request's deadline runs from its first byte
            self.input.in_head = True
            self.raw_requestline = self.input.readline(MAX_LINE + 1)
            if len(self.raw_requestline) > MAX_LINE:
                self.requestline = self.request_version = self.command = ""
                self.send_error(HTTPStatus.REQUEST_URI_TOO_LONG)
                return
            if not self.parse_request():  # answered (400, 431...)
                return
        except (_Cut, OSError):  # OSError: reset, or a read timed out
            self.close_connection = True
            self.incomplete()
            return
        finally:
            self.input.in_head = False
        method = getattr(self, "do_" + self.command, None)
        if method is None:
            self.send_error(HTTPStatus.NOT_IMPLEMENTED)
            return
        method()

    def incomplete(self) -> None:
        self.server.receiver.incomplete(str(self.client_address[0]), _CAUSES[self.watch.ended_by])

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
            if not self.server.connections.handling(self.watch):
                raise BodyError("ended by the receiver")
            rejected = receiver.handle(body, self.headers.get("Content-Type"), self.headers.get("Content-Encoding"))
        except (BodyError, OSError) as error:
            if self.watch.ended_by is not None or isinstance(error, OSError):  # nobody to answer
                self.close_connection = True
                self.incomplete()
            else:
                self._refuse("malformed", 400, str(error), kind)
        except OtlpPayloadError as error:
            self._refuse(_REASONS.get(error.status, "malformed"), error.status, str(error), kind)
        except WorkerEnded as error:  # not acknowledged: the exporter sends it again, to the worker started next
            self._refuse("decode_worker_ended", 503, f"{error}: retry later", kind, retry=True)
        except Exception:  # a bug: this request is lost (counted, logged once), the receiver goes on
            receiver.internal_error()
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


def _kind_of(content_type: str | None) -> str:
    """The encoding to answer in: the request's, protobuf when it has none that OTLP knows."""
    try:
        return media_kind(content_type)
    except OtlpPayloadError:
        return PROTOBUF
