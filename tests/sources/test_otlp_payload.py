"""OTLP/HTTP bodies: media types, gzip (and gzip bombs), OTLP's JSON quirks, malformed input."""

from __future__ import annotations

import json
import zlib

import pytest

from collector_runtime.sources.otlp import OtlpPayloadError, PayloadTooLarge, UnsupportedMediaType, decode_export
from collector_runtime.sources.otlp.payload import MAX_JSON_DEPTH, decompressed, media_kind, parse_request
from tests.otlp_builders import MAX_BYTES, PROTOBUF, body, export, gzipped, otlp_json, span


def _deep(levels: int) -> dict[str, object]:
    value: dict[str, object] = {"stringValue": "x"}
    for _ in range(levels):
        value = {"arrayValue": {"values": [value]}}
    return value


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("application/x-protobuf", "protobuf"),
        ("application/protobuf", "protobuf"),
        ("Application/X-Protobuf; charset=binary", "protobuf"),
        ("application/json", "json"),
        ("application/json; charset=utf-8", "json"),
    ],
)
def test_media_types(content_type: str, kind: str) -> None:
    assert media_kind(content_type) == kind


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/grpc", "application/jsonx"])
def test_other_media_types_are_415(content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType) as raised:
        media_kind(content_type)
    assert raised.value.status == 415


def test_identity_and_gzip() -> None:
    data = body(export(span()))
    assert decompressed(data, None, max_bytes=MAX_BYTES) == data
    assert decompressed(data, "identity", max_bytes=MAX_BYTES) == data
    assert decompressed(gzipped(data), " GZIP ", max_bytes=MAX_BYTES) == data


def test_concatenated_gzip_members_are_one_body() -> None:
    assert decompressed(gzipped(b"ab") + gzipped(b"cd"), "gzip", max_bytes=10) == b"abcd"


@pytest.mark.parametrize("encoding", ["deflate", "br", "zstd", "gzip, br"])
def test_other_encodings_are_415(encoding: str) -> None:
    with pytest.raises(UnsupportedMediaType):
        decompressed(b"x", encoding, max_bytes=MAX_BYTES)


def test_gzip_bomb_stops_at_max_bytes() -> None:
    bomb = gzipped(b"\0" * (64 << 20))  # 64 MiB of zeros in about 64 KiB
    assert len(bomb) < 100_000
    with pytest.raises(PayloadTooLarge) as raised:
        decompressed(bomb, "gzip", max_bytes=1 << 20)
    assert raised.value.status == 413


def test_exactly_max_bytes_is_allowed() -> None:
    assert decompressed(gzipped(b"x" * 1000), "gzip", max_bytes=1000) == b"x" * 1000
    with pytest.raises(PayloadTooLarge):
        decompressed(gzipped(b"x" * 1001), "gzip", max_bytes=1000)
    with pytest.raises(PayloadTooLarge):
        decompressed(b"x" * 1001, None, max_bytes=1000)


@pytest.mark.parametrize(
    "data",
    [b"", b"not gzip", gzipped(b"hello")[:-5], gzipped(b"hello")[:10], zlib.compress(b"raw zlib, no gzip header")],
)
def test_bad_gzip_is_400(data: bytes) -> None:
    with pytest.raises(OtlpPayloadError) as raised:
        decompressed(data, "gzip", max_bytes=MAX_BYTES)
    assert raised.value.status == 400


def test_otlp_json_hex_ids_enum_integers_and_int64_strings() -> None:
    request = export(span("DynamoDB", "GetItem", http__status_code=200))
    request.resource_spans[0].scope_spans[0].spans[0].trace_id = bytes.fromhex("7fee94b5eb928a8a2abf977d048fe18b")
    request.resource_spans[0].scope_spans[0].spans[0].span_id = bytes.fromhex("f41fd3bbd134bec5")
    document = otlp_json(request)
    the_span = document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]
    the_span["kind"] = 3  # the JavaScript exporter sends enums as integers
    status = next(a for a in the_span["attributes"] if a["key"] == "http.status_code")
    assert status["value"] == {"intValue": "200"}  # int64 as a string (canonical) ...
    parsed = parse_request(json.dumps(document).encode(), "json")
    decoded = parsed.resource_spans[0].scope_spans[0].spans[0]
    assert decoded.trace_id.hex() == "7fee94b5eb928a8a2abf977d048fe18b"
    assert decoded.span_id.hex() == "f41fd3bbd134bec5"
    status["value"] = {"intValue": 200}  # ... or as a number (the JavaScript exporter)
    assert parse_request(json.dumps(document).encode(), "json") == parsed


def test_json_ids_that_are_not_hex_are_dropped_not_fatal() -> None:
    document = otlp_json(export(span()))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["traceId"] = "not-hex!"
    [decoded] = decode_export(json.dumps(document).encode(), "application/json", None, max_bytes=MAX_BYTES).spans
    assert decoded.operation == "ListBuckets"


def test_json_unknown_enum_names_are_ignored_like_unknown_fields() -> None:
    document = otlp_json(export(span()))
    document["resourceSpans"][0]["scopeSpans"][0]["spans"][0]["kind"] = "SPAN_KIND_FROM_THE_FUTURE"
    [decoded] = decode_export(json.dumps(document).encode(), "application/json", None, max_bytes=MAX_BYTES).spans
    assert decoded.kind == 0


def test_json_snake_case_keys_and_unknown_fields() -> None:
    document = {
        "resource_spans": [
            {
                "scope_spans": [
                    {
                        "spans": [
                            {
                                "name": "x",
                                "futureField": {"a": 1},
                                "attributes": [
                                    {"key": "rpc.system", "value": {"stringValue": "aws-api"}},
                                    {"key": "rpc.service", "value": {"stringValue": "SQS"}},
                                    {"key": "rpc.method", "value": {"stringValue": "ListQueues"}},
                                ],
                            }
                        ]
                    }
                ]
            }
        ]
    }
    [decoded] = decode_export(json.dumps(document).encode(), "application/json", None, max_bytes=MAX_BYTES).spans
    assert (decoded.service, decoded.operation) == ("SQS", "ListQueues")


@pytest.mark.parametrize(
    "data",
    [
        b"",  # an empty JSON body is not an object
        b"[]",
        b"null",
        b'{"resourceSpans": 5}',
        b"\xff\xfe not utf-8",
        b"[" * 100_000,
        json.dumps(
            {"resourceSpans": [{"resource": {"attributes": [{"key": "k", "value": _deep(MAX_JSON_DEPTH)}]}}]}
        ).encode(),
    ],
)
def test_malformed_json_is_400(data: bytes) -> None:
    with pytest.raises(OtlpPayloadError) as raised:
        decode_export(data, "application/json", None, max_bytes=10 << 20)
    assert raised.value.status == 400


@pytest.mark.parametrize("data", [b"\x0a\x05abc", b"\xff" * 10, b"\x0a\xff\xff\xff\xff\x0f"])
def test_malformed_protobuf_is_400(data: bytes) -> None:
    with pytest.raises(OtlpPayloadError) as raised:
        decode_export(data, PROTOBUF, None, max_bytes=MAX_BYTES)
    assert raised.value.status == 400


def test_empty_protobuf_body_is_an_empty_export() -> None:
    assert decode_export(b"", PROTOBUF, None, max_bytes=MAX_BYTES).spans == ()
