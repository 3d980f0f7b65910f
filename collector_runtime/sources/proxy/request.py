"""One intercepted HTTP request, as the matcher reads it: the adapter builds it, the matcher drops it.

The body is cut to `MAX_BODY` bytes on the way in (`body_truncated` says so); nothing built from a request
keeps the body, its headers or its signature, only the identifier values the allow-list lets through.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import parse_qsl

from collector_runtime.sources.proxy.json_skeleton import without_long_strings

MAX_BODY = 65_536  # bytes of a body the matcher reads; longer bodies are parsed only where a prefix suffices


class HttpRequest(NamedTuple):
    """An intercepted request. `headers` has lower-case names; `body` is at most MAX_BODY bytes."""

    method: str  # "GET", "POST", ...
    host: str  # the original host name, lower case, without port ("my-bucket.s3.eu-west-1.amazonaws.com")
    path: str  # the raw (percent-encoded) path, without the query string
    query: str  # the raw query string, without "?"
    headers: Mapping[str, str]
    body: bytes
    body_truncated: bool = False

    def header(self, name: str) -> str | None:
        """A header's value by lower-case name."""
        return self.headers.get(name)

    def query_pairs(self) -> list[tuple[str, str]]:
        """The query string as decoded (name, value) pairs, in order, blank values kept."""
        return parse_qsl(self.query, keep_blank_values=True)


def http_request(
    method: str,
    host: str,
    path: str,
    query: str,
    *,
    headers: Mapping[str, str] | Iterable[tuple[str, str]],
    body: bytes = b"",
    cut: bool = False,
) -> HttpRequest:
    """Normalise what an adapter read off the wire: header names lower-cased (the first of repeated headers
    wins), the port dropped from the host, a long JSON body's long strings emptied (`json_skeleton`), the
    body cut to MAX_BODY bytes; `cut`: the body given is already only a part (a streamed one's skeleton)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lowered: dict[str, str] = {}
    for name, value in pairs:
        lowered.setdefault(name.lower(), value)
    if len(body) > MAX_BODY and is_json(lowered):
        body, cut = without_long_strings(bytes(body), MAX_BODY)  # an inline package hides no member after it
    return HttpRequest(
        method=method.upper(),
        host=_host_without_port(host).lower(),
        path=path or "/",
        query=query,
        headers=lowered,
        body=bytes(body[:MAX_BODY]),
        body_truncated=cut or len(body) > MAX_BODY,
    )


def is_json(headers: Mapping[str, str]) -> bool:
    """Whether a request or response (lower-case header names) carries a JSON document."""
    content_type = headers.get("content-type", "").lower()
    return content_type.startswith(("application/x-amz-json", "application/json"))


def _host_without_port(host: str) -> str:
    if host.startswith("["):  # [::1]:443
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
