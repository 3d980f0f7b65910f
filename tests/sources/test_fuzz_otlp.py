"""Hostile OTLP bodies: arbitrary bytes, mutated real exports, random JSON and random well-formed
exports never raise anything but OtlpPayloadError, and what comes out stays within its limits."""

from __future__ import annotations

import gzip
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector_runtime.sources.otlp import OtlpPayloadError, decode_export, observed_calls
from collector_runtime.sources.otlp.span_identifiers import IDENTIFIER_KEYS
from tests.otlp_builders import MANIFEST, PROTOBUF, attributes, body, export, fixture, span
from tests.sources.test_otlp_calls import SERVICES

MAX_BYTES = 256 << 10
CONTENT_TYPES = ["application/x-protobuf", "application/json", "application/json; charset=utf-8", "text/plain"]
ENCODINGS = [None, "gzip", "identity", "br"]
RAW = {name: fixture(name) for name in sorted(MANIFEST)}
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def decode_or_refuse(data: bytes, content_type: str, encoding: str | None) -> None:
    """Decoding either succeeds with bounded, well-formed output or raises OtlpPayloadError."""
    try:
        decoded = decode_export(data, content_type, encoding, max_bytes=MAX_BYTES, workload_attribute="k")
    except OtlpPayloadError as error:
        assert error.status in (400, 413, 415)
        return
    for call in observed_calls(decoded, SERVICES):
        assert call.workload and len(call.workload) <= 255
        assert call.service and call.operation
        assert all(arn.startswith("arn:") and len(arn) < 3000 for arn in call.resources)
        assert call.account is None or (len(call.account) == 12 and call.account.isdigit())


@FUZZ
@given(st.binary(max_size=4096), st.sampled_from(CONTENT_TYPES), st.sampled_from(ENCODINGS))
def test_arbitrary_bytes(data: bytes, content_type: str, encoding: str | None) -> None:
    decode_or_refuse(data, content_type, encoding)


@st.composite
def mutated(draw: st.DrawFn) -> tuple[bytes, str, str | None]:
    name = draw(st.sampled_from(sorted(RAW)))
    data, content_type, encoding = RAW[name]
    raw = bytearray(gzip.decompress(data) if encoding == "gzip" else data)
    for _ in range(draw(st.integers(1, 8))):
        position = draw(st.integers(0, max(len(raw) - 1, 0)))
        action = draw(st.sampled_from(["flip", "cut", "insert", "truncate"]))
        if action == "flip" and raw:
            raw[position] ^= draw(st.integers(1, 255))
        elif action == "cut":
            del raw[position : position + draw(st.integers(1, 64))]
        elif action == "insert":
            raw[position:position] = draw(st.binary(min_size=1, max_size=16))
        else:
            del raw[position:]
    recompress = encoding == "gzip" and draw(st.booleans())
    return (gzip.compress(bytes(raw)) if recompress else bytes(raw)), content_type, (encoding if recompress else None)


@FUZZ
@given(mutated())
def test_mutated_real_exports(case: tuple[bytes, str, str | None]) -> None:
    decode_or_refuse(*case)


@FUZZ
@given(st.sampled_from(sorted(RAW)), st.data())
def test_mutated_gzip_streams(name: str, data: st.DataObject) -> None:
    body_, content_type, encoding = RAW[name]
    compressed = gzip.compress(body_) if encoding is None else body_
    position = data.draw(st.integers(0, len(compressed) - 1))
    broken = compressed[:position] + bytes([compressed[position] ^ data.draw(st.integers(1, 255))])
    decode_or_refuse(broken + compressed[position + 1 :], content_type, "gzip")


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=30,
)
otlp_keys = st.sampled_from(["resourceSpans", "scopeSpans", "spans", "attributes", "key", "value", "stringValue"])


@FUZZ
@given(st.dictionaries(otlp_keys | st.text(max_size=8), json_values, max_size=4))
def test_random_json(document: dict[str, object]) -> None:
    decode_or_refuse(json.dumps(document).encode(), "application/json", None)


attribute_keys = st.sampled_from(
    sorted(IDENTIFIER_KEYS | {"rpc.service", "rpc.method", "cloud.region", "aws.region", "cloud.account.id"})
) | st.text(max_size=20)
attribute_values = st.recursive(
    st.booleans() | st.integers(-(2**63), 2**63 - 1) | st.text(max_size=300),
    lambda children: st.lists(children, max_size=5),
    max_leaves=10,
)


@FUZZ
@given(
    st.lists(st.dictionaries(attribute_keys, attribute_values, max_size=8), max_size=6),
    st.dictionaries(st.sampled_from(["service.name", "faas.name", "cloud.account.id", "k"]), attribute_values),
)
def test_random_well_formed_exports(spans: list[dict[str, object]], resource: dict[str, object]) -> None:
    made = []
    for values in spans:
        made_span = span(str(values.pop("rpc.service", "S3")), str(values.pop("rpc.method", "GetObject")))
        made_span.attributes.extend(attributes(values))
        made.append(made_span)
    decode_or_refuse(body(export(*made, resource=resource)), PROTOBUF, None)
