"""One intercepted HTTP request, as the matcher reads it: the adapter builds it, the matcher drops it.

The body is cut to `MAX_BODY` bytes on the way in (`body_truncated` says so); nothing built from a request
keeps the body, its headers or its signature, only the identifier values the allow-list lets through.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable, Mapping
from typing import NamedTuple
from urllib.parse import parse_qsl

from collector_runtime.bounded_inflate import GZIP, GZIP_OR_ZLIB, Truncated, inflate
from collector_runtime.sources.proxy.body_skeleton import form_without_long_values, without_long_strings

MAX_BODY = 65_536  # bytes of a body the matcher reads; longer bodies are parsed only where a prefix suffices
MAX_DECODED = 4 << 20  # bytes a compressed body is decoded to at most: what mitmproxy keeps of a plain one
_WBITS = {"gzip": GZIP, "x-gzip": GZIP, "deflate": GZIP_OR_ZLIB}


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
    wins), the port dropped from the host, the body decoded from its Content-Encoding (`decoded`), a long
    JSON or form body's long values emptied (`body_skeleton`), the body cut to MAX_BODY bytes; `cut`: the body given
    is already only a part (what was read of a streamed one)."""
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    lowered: dict[str, str] = {}
    for name, value in pairs:
        lowered.setdefault(name.lower(), value)
    body, partly = decoded(bytes(body), lowered.get("content-encoding"))
    if len(body) > MAX_BODY and (is_json(lowered) or is_form(lowered)):  # an inline package or template
        leave_out = without_long_strings if is_json(lowered) else form_without_long_values  # hides nothing after it
        body, skeleton_cut = leave_out(body, MAX_BODY)
        partly = partly or skeleton_cut
    return HttpRequest(
        method=method.upper(),
        host=_host_without_port(host).lower(),
        path=path or "/",
        query=query,
        headers=lowered,
        body=bytes(body[:MAX_BODY]),
        body_truncated=cut or partly or len(body) > MAX_BODY,
    )


def decoded(body: bytes, content_encoding: str | None, limit: int = MAX_DECODED) -> tuple[bytes, bool]:
    """A body as sent, decoded from its Content-Encoding to at most `limit` bytes, and whether it was cut: gzip
    and deflate (what AWS SDKs compress requests with, and Go's HTTP client asks responses in) are decoded
    only as far as they are read, so a compression bomb costs no more than a plain body; any other encoding
    (`aws-chunked`, `br`) or a body that does not decode is not read: (b"", True)."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        return body, False
    wbits = _WBITS.get(encoding)
    if wbits is None or not body:
        return b"", bool(body)
    try:
        data = inflate(body, wbits, limit)
    except (zlib.error, Truncated):
        return b"", True
    return data[:limit], len(data) > limit


def is_form(headers: Mapping[str, str]) -> bool:
    """Whether a request (lower-case header names) carries a form (the query and EC2 protocols)."""
    return "x-www-form-urlencoded" in headers.get("content-type", "").lower()


def is_json(headers: Mapping[str, str]) -> bool:
    """Whether a request or response (lower-case header names) carries a JSON document."""
    content_type = headers.get("content-type", "").lower()
    return content_type.startswith(("application/x-amz-json", "application/json"))


def _host_without_port(host: str) -> str:
    if host.startswith("["):  # [::1]:443
        return host.split("]", 1)[0] + "]"
    return host.rsplit(":", 1)[0] if host.count(":") == 1 else host
