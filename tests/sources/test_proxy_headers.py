"""The headers the proxy's addon hands the recorder: mitmproxy's view of them, read in one pass."""

from __future__ import annotations

import random

import pytest
from mitmproxy import http

from collector_runtime.sources.proxy.addon import lowered_headers

NAMES = [b"Content-Type", b"content-type", b"X-Amz-Target", b"x-amz-date", b"Host", b"X-Amz-Meta-\xc3\xa9", b"\xff-raw"]
VALUES = [b"", b"a", b"application/x-amz-json-1.0", b"caf\xc3\xa9", b"\xfe\xff", b" spaced "]


def mitmproxy_view(headers: http.Headers) -> dict[str, str]:
    """What the addon read before: mitmproxy's Mapping view (repeated names joined with ", "), lower-cased."""
    return {name.lower(): value for name, value in headers.items()}


@pytest.mark.parametrize("seed", range(40))
def test_the_same_as_mitmproxys_view_repeated_and_undecodable_headers_included(seed: int) -> None:
    rng = random.Random(seed)
    fields = [(rng.choice(NAMES), rng.choice(VALUES)) for _ in range(rng.randrange(0, 12))]
    headers = http.Headers(fields)
    assert lowered_headers(headers) == mitmproxy_view(headers)


def test_each_field_is_read_once_not_looked_up_by_name(monkeypatch: pytest.MonkeyPatch) -> None:
    """mitmproxy's `items()` looks each name up again over all fields: quadratic in the number of headers."""
    headers = http.Headers([(f"X-Amz-Meta-{i}".encode(), b"v") for i in range(200)])

    def refused(*_: object) -> None:
        raise AssertionError("a header looked up by name")

    monkeypatch.setattr(http.Headers, "get_all", refused)
    assert len(lowered_headers(headers)) == 200
