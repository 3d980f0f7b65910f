"""Hand-built OTLP messages for the unit tests of the variants the real fixtures do not show."""

from __future__ import annotations

import base64
import gzip
import json
from pathlib import Path
from typing import Any

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, ArrayValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

FIXTURES = Path(__file__).parent / "fixtures" / "otlp"
MANIFEST: dict[str, dict[str, str | None]] = json.loads((FIXTURES / "manifest.json").read_text())
PROTOBUF = "application/x-protobuf"
MAX_BYTES = 1 << 20


def fixture(name: str) -> tuple[bytes, str, str | None]:
    """A captured body with its Content-Type and Content-Encoding."""
    headers = MANIFEST[name]
    return (FIXTURES / name).read_bytes(), str(headers["content_type"]), headers["content_encoding"]


def any_value(value: object) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, list | tuple):
        return AnyValue(array_value=ArrayValue(values=[any_value(v) for v in value]))
    return AnyValue(string_value=str(value))


def attributes(values: dict[str, object]) -> list[KeyValue]:
    return [KeyValue(key=key, value=any_value(value)) for key, value in values.items()]


def span(
    service: str = "S3",
    method: str = "ListBuckets",
    *,
    error: str | None = None,
    exception: tuple[str, str] | None = None,
    **attrs: object,
) -> Span:
    values: dict[str, object] = {"rpc.system": "aws-api", "rpc.service": service, "rpc.method": method}
    values.update({key.replace("__", "."): value for key, value in attrs.items()})
    result = Span(name=f"{service}.{method}", kind=Span.SpanKind.SPAN_KIND_CLIENT, attributes=attributes(values))
    result.start_time_unix_nano = 1_700_000_000_123_456_789
    if error is not None:
        result.status.CopyFrom(Status(code=Status.StatusCode.STATUS_CODE_ERROR, message=error))
    if exception is not None:
        event = result.events.add(name="exception")
        event.attributes.extend(attributes({"exception.type": exception[0], "exception.message": exception[1]}))
    return result


def export(*spans: Span, resource: dict[str, object] | None = None) -> ExportTraceServiceRequest:
    resource_spans = ResourceSpans()
    resource_spans.resource.attributes.extend(attributes({"service.name": "web"} if resource is None else resource))
    resource_spans.scope_spans.add().spans.extend(spans)
    return ExportTraceServiceRequest(resource_spans=[resource_spans])


def body(request: ExportTraceServiceRequest) -> bytes:
    return request.SerializeToString()


def otlp_json(request: ExportTraceServiceRequest) -> dict[str, Any]:
    """The OTLP JSON encoding of a request: canonical proto3 JSON with hex instead of base64 ids."""
    document = json_format.MessageToDict(request)
    for resource_spans in document.get("resourceSpans", []):
        for scope_spans in resource_spans.get("scopeSpans", []):
            for item in scope_spans.get("spans", []):
                for field in ("traceId", "spanId", "parentSpanId"):
                    if field in item:
                        item[field] = _base64_to_hex(item[field])
    return document


def _base64_to_hex(value: str) -> str:
    return base64.b64decode(value).hex()


def gzipped(data: bytes) -> bytes:
    return gzip.compress(data, mtime=0)
