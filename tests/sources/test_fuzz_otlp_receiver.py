"""Hostile HTTP at the OTLP receiver, decoding in its threads and in a decode worker: arbitrary bodies, headers and
raw bytes never end it, every request that reaches it is counted exactly once (accepted or refused, with a
reason), and it still serves a real export after."""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector_runtime.sources.otlp.receiver import OtlpReceiver
from tests.otlp_builders import fixture
from tests.sources.otlp_http import Collected, receiving, request

FUZZ = settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
REAL = fixture("js-aws-sdk-0.78.0.pb")[0]
HEADER_NAMES = ["Content-Type", "Content-Encoding", "Content-Length", "Transfer-Encoding", "Expect", "X-Any"]
HEADER_VALUES = st.one_of(
    st.sampled_from(
        ["application/x-protobuf", "application/json", "gzip", "identity", "chunked", "0", "-1", "99999999999", ""]
    ),
    st.text(st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=40),
)
BODIES = st.one_of(
    st.binary(max_size=2048),
    st.just(REAL),
    st.just(gzip.compress(REAL)),
    st.binary(min_size=1, max_size=64).map(lambda cut: REAL[: len(cut) * 97]),
)


@pytest.fixture(scope="module", params=[0, 1], ids=["decoded-in-thread", "decode-worker"])
def served(request: pytest.FixtureRequest) -> Iterator[tuple[OtlpReceiver, Collected]]:
    with receiving(max_request_bytes=64 << 10, decode_workers=request.param) as running:
        yield running


def total(receiver: OtlpReceiver) -> int:
    counters = receiver.counters.as_dict()
    return int(counters["requests_accepted"]) + int(counters["requests_refused"])


@FUZZ
@given(
    body=BODIES,
    headers=st.dictionaries(st.sampled_from(HEADER_NAMES), HEADER_VALUES, max_size=5),
    chunked=st.booleans(),
    path=st.sampled_from(["/v1/traces", "/v1/traces?x=1", "/", "/v1/logs"]),
)
def test_any_request_is_answered_and_counted_once(
    served: tuple[OtlpReceiver, Collected], body: bytes, headers: dict[str, str], chunked: bool, path: str
) -> None:
    receiver, _ = served
    before = total(receiver)
    if chunked:
        headers = {k: v for k, v in headers.items() if k not in ("Content-Length", "Transfer-Encoding")}
    status, _, _ = request(receiver.address[1], body, headers, chunked=chunked, path=path)
    assert status in (200, 400, 404, 413, 415)
    assert total(receiver) == before + 1


@FUZZ
@given(raw=st.binary(max_size=1024))
def test_raw_bytes_never_end_the_receiver(served: tuple[OtlpReceiver, Collected], raw: bytes) -> None:
    receiver, collected = served
    before = len(collected.batches)
    request(receiver.address[1], raw=b"POST /v1/traces HTTP/1.1\r\n" + raw)
    status, _, _ = request(receiver.address[1], REAL, {"Content-Type": "application/x-protobuf"})
    assert status == 200 and len(collected.batches) >= before + 1
