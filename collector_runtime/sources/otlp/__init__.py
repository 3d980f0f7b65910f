"""OpenTelemetry (OTLP/HTTP traces) as a source: AWS SDK spans in, `ObservedCall`s out.

The pure part of the OTLP receiver: no sockets, no environment, no clock.

    export = decode_export(body, content_type, content_encoding, max_bytes=4 << 20)
    calls = observed_calls(export, service_index(known_service_ids))

`payload` turns a request body into an `ExportTraceServiceRequest` (media type, gzip, OTLP's JSON
quirks), `spans` keeps the `rpc.system = "aws-api"` spans as plain values, `arns` turns their
identifier attributes into ARNs, and `calls` makes the call records. A body that is not a valid
export raises `OtlpPayloadError`, whose `status` (400, 413, 415) the HTTP layer answers with.
"""

from .calls import observed_call, observed_calls, resolve_service, service_index, workload_of
from .payload import OtlpPayloadError, PayloadTooLarge, UnsupportedMediaType
from .spans import AwsSpan, DecodedExport, ResourceInfo, decode_export

__all__ = [
    "AwsSpan",
    "DecodedExport",
    "OtlpPayloadError",
    "PayloadTooLarge",
    "ResourceInfo",
    "UnsupportedMediaType",
    "decode_export",
    "observed_call",
    "observed_calls",
    "resolve_service",
    "service_index",
    "workload_of",
]
