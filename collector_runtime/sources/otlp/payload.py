"""One OTLP/HTTP `POST /v1/traces` body to an `ExportTraceServiceRequest`: media type, gzip, JSON quirks.

Pure: no sockets, no environment, no clock. The body is untrusted: every way it can be wrong ends in
an `OtlpPayloadError` whose `status` is the HTTP status the receiver answers (400, 413 or 415), never
in any other exception.

- Media types: `application/x-protobuf` (also `application/protobuf`) and `application/json`
  (OTLP's JSON mapping), parameters such as `; charset=utf-8` ignored.
- Encodings: none/`identity` and `gzip` (several members allowed). Decompression stops at `max_bytes`
  of output, so a gzip bomb costs at most that much memory.
- OTLP JSON differs from protobuf's canonical JSON mapping in its ids: `traceId`/`spanId`/
  `parentSpanId` are hex, not base64. They are converted (or dropped when not hex) before
  `google.protobuf.json_format` parses the rest; enums as integers, int64 as numbers or strings and
  snake_case keys are accepted by `json_format` as they are; unknown fields are ignored.
"""

from __future__ import annotations

import base64
import json
import zlib
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest

from collector_runtime.bounded_inflate import GZIP, Truncated, inflate

PROTOBUF, JSON = "protobuf", "json"
_MEDIA_TYPES = {"application/x-protobuf": PROTOBUF, "application/protobuf": PROTOBUF, "application/json": JSON}
_ID_FIELDS = ("traceId", "spanId", "parentSpanId", "trace_id", "span_id", "parent_span_id")
_PARSE_ERRORS = (DecodeError, json_format.ParseError, ValueError, TypeError, RecursionError, OverflowError)
MAX_JSON_DEPTH = 64  # OTLP needs about 12 levels (nested AnyValue arrays/kvlists add more)


class OtlpPayloadError(Exception):
    """A request body the receiver must refuse; `status` is the HTTP status to answer with."""

    status = 400


class PayloadTooLarge(OtlpPayloadError):
    status = 413


class UnsupportedMediaType(OtlpPayloadError):
    status = 415


def media_kind(content_type: str | None) -> str:
    """PROTOBUF or JSON for a Content-Type header value; UnsupportedMediaType for anything else."""
    essence = (content_type or "").split(";", 1)[0].strip().lower()
    kind = _MEDIA_TYPES.get(essence)
    if kind is None:
        raise UnsupportedMediaType(f"unsupported content type {essence[:64]!r}")
    return kind


def decompressed(body: bytes, content_encoding: str | None, *, max_bytes: int) -> bytes:
    """The body without its Content-Encoding, never more than max_bytes long (else PayloadTooLarge)."""
    encoding = (content_encoding or "identity").strip().lower()
    if encoding == "identity":
        if len(body) > max_bytes:
            raise PayloadTooLarge(f"body of {len(body)} bytes exceeds {max_bytes}")
        return body
    if encoding != "gzip":
        raise UnsupportedMediaType(f"unsupported content encoding {encoding[:32]!r}")
    return _gunzip(body, max_bytes)


def _gunzip(data: bytes, max_bytes: int) -> bytes:
    try:
        out = inflate(data, GZIP, max_bytes)
    except zlib.error as error:
        raise OtlpPayloadError(f"invalid gzip data: {error}") from None
    except Truncated:
        raise OtlpPayloadError("truncated gzip data") from None
    if len(out) > max_bytes:
        raise PayloadTooLarge(f"body inflates to more than {max_bytes} bytes")
    return out


def parse_request(raw: bytes, kind: str) -> ExportTraceServiceRequest:
    """The decoded request of an already decompressed body; OtlpPayloadError if it is not one."""
    request = ExportTraceServiceRequest()
    try:
        if kind == PROTOBUF:
            request.ParseFromString(raw)
        else:
            json_format.ParseDict(_otlp_json(raw), request, ignore_unknown_fields=True)
    except _PARSE_ERRORS as error:
        raise OtlpPayloadError(f"malformed {kind} payload: {type(error).__name__}") from None
    return request


def _otlp_json(raw: bytes) -> dict[str, Any]:
    document = json.loads(raw)
    if not isinstance(document, dict):
        raise ValueError("not a JSON object")
    for span in _json_spans(document):
        _hex_ids_to_base64(span)
        for link in _json_list(span, "links"):
            _hex_ids_to_base64(link)
    _check_depth(document)
    return document


def _json_list(obj: dict[str, Any], camel: str) -> list[dict[str, Any]]:
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    items = obj.get(camel, obj.get(snake))
    return [item for item in items if isinstance(item, dict)] if isinstance(items, list) else []


def _json_spans(document: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        span
        for resource_spans in _json_list(document, "resourceSpans")
        for scope_spans in _json_list(resource_spans, "scopeSpans")
        for span in _json_list(scope_spans, "spans")
    ]


def _hex_ids_to_base64(obj: dict[str, Any]) -> None:
    for field in _ID_FIELDS:
        value = obj.get(field)
        if not isinstance(value, str):
            continue
        try:
            obj[field] = base64.b64encode(bytes.fromhex(value)).decode("ascii")
        except ValueError:
            del obj[field]  # not hex: the ids are not needed, the rest of the span still is


def _check_depth(document: object) -> None:
    """json_format recurses per nesting level: refuse documents deeper than OTLP ever is."""
    level: list[object] = [document]
    for _ in range(MAX_JSON_DEPTH):
        level = [child for node in level for child in _children(node)]
        if not level:
            return
    raise ValueError("JSON nested too deeply")


def _children(node: object) -> list[object]:
    if isinstance(node, dict):
        return [v for v in node.values() if isinstance(v, dict | list)]
    if isinstance(node, list):
        return [v for v in node if isinstance(v, dict | list)]
    return []
