"""OpenTelemetry (OTLP/HTTP traces) as a source: AWS SDK spans in, `ObservedCall`s out.

The pure part of the OTLP receiver: no sockets, no environment, no clock.

    export = decode_export(body, content_type, content_encoding, max_bytes=4 << 20)
    calls = SpanRecords(action_map).calls(export)      # or observed_calls(export, action_map)

`payload` turns a request body into an `ExportTraceServiceRequest` (media type, gzip, OTLP's JSON
quirks), `spans` keeps the `rpc.system = "aws-api"` spans as plain values, `span_identifiers` says which
of their attributes name resources (`core.identifier_arns` turns them into ARNs), and `calls` makes the
call records. A body that is not a valid export raises `OtlpPayloadError`, whose `status` (400, 413,
415) the HTTP layer answers with. `receiver` is that thin HTTP adapter (a thread; the one impure module).
"""

from .calls import ActionMapView, SpanRecords, observed_calls, resolve_service, workload_of
from .payload import OtlpPayloadError, PayloadTooLarge, UnsupportedMediaType
from .spans import AwsSpan, DecodedExport, ResourceInfo, decode_export

__all__ = [
    "ActionMapView",
    "AwsSpan",
    "DecodedExport",
    "OtlpPayloadError",
    "PayloadTooLarge",
    "ResourceInfo",
    "SpanRecords",
    "UnsupportedMediaType",
    "decode_export",
    "observed_calls",
    "resolve_service",
    "workload_of",
]
