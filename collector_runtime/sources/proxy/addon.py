"""The mitmproxy addon: a thin adapter between mitmproxy's flows and the pure `CallRecorder`.

Only AWS hosts (and `--intercept-host` patterns) reach it decrypted (mitmproxy's `allow_hosts`); it checks
the host itself too, because plain-HTTP proxy requests reach the hooks whatever their host. For an
intercepted request it reads the proxy user (never demanding one: no 407), strips `Proxy-Authorization`,
optionally sends the request to `--upstream` (keeping the Host header), and when the response is in, hands
method, host, path, headers and body to the recorder, which keeps only names and identifiers. The recording
runs just after the hook (`call_soon`), once mitmproxy has sent the response on: matching the request and
waking the collector's thread (which then takes the GIL) are not part of the client's wait. A hook that
fails on a request is counted and the request passes through: nothing a client sends stops the proxy.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import functools
import logging
import time
from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from mitmproxy import connection, http

from collector_runtime.core.records import ObservedCall
from collector_runtime.sources.proxy.body_skeleton import JsonSkeleton
from collector_runtime.sources.proxy.calls import NO_RESPONSE, CallRecorder
from collector_runtime.sources.proxy.hosts import HostMatcher, Upstream
from collector_runtime.sources.proxy.request import MAX_BODY, decoded, http_request, is_json
from collector_runtime.sources.proxy.responses import (
    MAX_ERROR_BODY,
    ResponseInfo,
    names_caller,
    names_in_body,
    read_response,
)

log = logging.getLogger("csm_collector")
UPSTREAM_CLOSES_HIDDEN = 100  # per client connection (see AwsInterceptor._hide_upstream_close)
INTERCEPTED = "csm_collector.intercepted"  # flow.metadata key: the original host and the proxy user
Submit = Callable[[list[ObservedCall]], None]
Hook = TypeVar("Hook", bound=Callable[..., None])


class _Intercepted(NamedTuple):
    host: str  # the host the client asked for ("my-bucket.s3.eu-west-1.amazonaws.com")
    user: str | None
    skeleton: JsonSkeleton | None = None  # a streamed JSON body's, read as it passed


def guarded(hook: Hook) -> Hook:
    """A hook that never raises into mitmproxy: a failure is counted, logged once, and the flow goes on."""

    @functools.wraps(hook)
    def run(self: AwsInterceptor, *args: Any) -> None:
        try:
            hook(self, *args)
        except Exception:
            self.recorder.counters.internal_errors += 1
            if self.recorder.counters.internal_errors == 1:
                log.exception("proxy: internal error in %s (counted; the request passes through)", hook.__name__)

    return run  # type: ignore[return-value]


def proxy_user(value: str | None) -> str | None:
    """The user name of a `Basic base64(user:password)` Proxy-Authorization value (any password)."""
    if not value or value[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(value[6:].strip(), validate=True).decode("utf-8")
    except (binascii.Error, ValueError):
        return None
    return decoded.split(":", 1)[0] or None


def lowered_headers(headers: http.Headers) -> dict[str, str]:
    """Lower-case name -> value, as mitmproxy's own view reads them (names and values decoded as UTF-8 with
    surrogate escapes, repeated names joined with ", "), in one pass over the raw fields: its Mapping view
    looks every name up again over all the fields, quadratic in the number of headers, on the proxy's thread."""
    lowered: dict[str, str] = {}
    for raw_name, raw_value in headers.fields:
        name = raw_name.decode("utf-8", "surrogateescape").lower()
        value = raw_value.decode("utf-8", "surrogateescape")
        lowered[name] = f"{lowered[name]}, {value}" if name in lowered else value
    return lowered


class AwsInterceptor:
    def __init__(
        self,
        recorder: CallRecorder,
        hosts: HostMatcher,
        submit: Submit,
        *,
        upstream: Upstream | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.recorder = recorder
        self.hosts = hosts
        self.submit = submit
        self.upstream = upstream
        self.wall_clock = wall_clock
        self._users: dict[str, str] = {}  # client connection id -> proxy user of its CONNECT
        self._upstream_closes: dict[str, int] = {}  # client connection id -> upstream closes hidden from it

    @guarded
    def http_connect(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:  # refused (guard.DestinationGuard)
            return
        user = proxy_user(flow.request.headers.pop("Proxy-Authorization", None))
        if user:
            self._users[flow.client_conn.id] = user
        if not self.hosts.intercepts(flow.request.host, flow.request.port):
            self.recorder.counters.tunnels_not_intercepted += 1

    @guarded
    def client_disconnected(self, client: connection.Client) -> None:
        self._users.pop(client.id, None)
        self._upstream_closes.pop(client.id, None)

    @guarded
    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is not None:  # refused (guard.DestinationGuard)
            return
        request = flow.request
        user = proxy_user(request.headers.pop("Proxy-Authorization", None)) or self._users.get(flow.client_conn.id)
        if not self.hosts.intercepts(request.pretty_host, request.port):
            self.recorder.counters.requests_not_intercepted += 1
            return
        flow.metadata[INTERCEPTED] = _Intercepted(request.pretty_host, user, self._read_as_streamed(request))
        if self.upstream is not None:
            host_header = request.host_header
            request.scheme, request.host, request.port = self.upstream
            request.host_header = host_header  # the host and port setters rewrote it

    def _read_as_streamed(self, request: http.Request) -> JsonSkeleton | None:
        """mitmproxy streams a body over STREAM_LARGE_BODIES (server.py) on without keeping it: a JSON one is
        read as it passes, its long strings left out (`body_skeleton`), so the members after an inline
        deployment package are read. A chunk is passed on untouched whatever the reading does."""
        if not request.stream:  # the common case, decided before any header is read
            return None
        headers = lowered_headers(request.headers)
        if not is_json(headers) or headers.get("content-encoding", "identity") != "identity":
            return None  # a compressed body's chunks are no JSON
        skeleton = JsonSkeleton(MAX_BODY)

        def pass_on(chunk: bytes) -> bytes:
            if not skeleton.full:
                try:
                    skeleton.feed(chunk)
                except Exception:
                    skeleton.full = True  # read no further: the request is recorded as cut
                    self.recorder.counters.internal_errors += 1
            return chunk

        request.stream = pass_on
        return skeleton

    @guarded
    def response(self, flow: http.HTTPFlow) -> None:
        seen = flow.metadata.get(INTERCEPTED)
        if seen is None or flow.response is None:
            return
        if self.upstream is not None and flow.response.headers.get("connection", "").lower() == "close":
            self._hide_upstream_close(flow)
        asyncio.get_running_loop().call_soon(self._record_response, flow, seen)

    def _hide_upstream_close(self, flow: http.HTTPFlow) -> None:
        """moto_server closes after every response; passed on, every request would cost the client a new CONNECT
        and TLS handshake. Dropped here, after the upstream side has seen it (not in responseheaders: the upstream
        connection would then be reused after it was closed). But mitmproxy keeps each closed upstream connection
        of a client connection until the client leaves, and scans them all for every request: past
        UPSTREAM_CLOSES_HIDDEN, the close is passed on, and the client's next connection starts afresh."""
        assert flow.response is not None  # checked by the hook
        client = flow.client_conn.id
        hidden = self._upstream_closes.pop(client, 0)
        if hidden < UPSTREAM_CLOSES_HIDDEN:
            self._upstream_closes[client] = hidden + 1
            del flow.response.headers["connection"]

    @guarded
    def error(self, flow: http.HTTPFlow) -> None:
        seen = flow.metadata.get(INTERCEPTED)
        if seen is not None and flow.response is None:
            asyncio.get_running_loop().call_soon(self._record, flow, seen, NO_RESPONSE)

    @guarded
    def _record_response(self, flow: http.HTTPFlow, seen: _Intercepted) -> None:
        response = flow.response
        assert response is not None  # checked by the hook that scheduled this
        headers = lowered_headers(response.headers)
        read_body = response.status_code >= 300 or names_in_body(headers) or names_caller(seen.host, headers)
        raw = response.raw_content if read_body else None  # None: not read, or streamed on (not kept)
        body = decoded(raw, headers.get("content-encoding"), MAX_ERROR_BODY + 1)[0] if raw is not None else None
        self._record(flow, seen, read_response(response.status_code, headers, body))

    @guarded
    def _record(self, flow: http.HTTPFlow, seen: _Intercepted, response: ResponseInfo) -> None:
        request = flow.request
        path, _, query = request.path.partition("?")
        headers = lowered_headers(request.headers)
        if request.raw_content is not None:  # as sent: mitmproxy's get_content would decode a compressed body whole
            body, cut = request.raw_content, False
        elif request.stream:  # streamed on, not kept: what was read as it passed, if anything
            body, cut = seen.skeleton.result() if seen.skeleton is not None else (b"", True)
        else:
            body, cut = b"", False
        wire = http_request(request.method, seen.host, path, query, headers=headers, body=body, cut=cut)
        time_ms = int(self.wall_clock() * 1000)
        self.submit([self.recorder.record(wire, seen.user, response, time_ms)])
