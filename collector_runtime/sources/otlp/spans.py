"""One OTLP/HTTP traces body to the AWS SDK spans it holds, as plain typed values.

Pure: no sockets, no environment, no clock. `decode_export` keeps the spans with
`rpc.system = "aws-api"` or (current conventions) `rpc.system.name = "aws-api"` (one CLIENT, PRODUCER or
CONSUMER span per API call in every AWS SDK instrumentation) and counts the others; an AWS span whose call
it cannot read is counted by reason (`unreadable`). Of each span it keeps only what a call record needs: service,
operation, region, account, start time, whether and how it failed, and the identifier attributes of
`span_identifiers.IDENTIFIER_KEYS`. Error messages are read here for the error code and the actions an
AccessDenied names, and then dropped; no other attribute value (statements, message bodies, headers,
URLs of other services, access keys) ever leaves this module.

Attributes read from the span: `rpc.system` / `rpc.system.name`, `rpc.service`, `rpc.method` (or
`Service/Method`; without it the span name `Service.Operation`), `api.error_code`, `cloud.region`,
`aws.region` or `aws.auth.region` (the ADOT distro's signing region), `cloud.account.id`,
`http.response.status_code` or `http.status_code`, the identifiers, and `exception.type` /
`exception.message` of the first `exception` event; from the resource:
`service.name`, `faas.name`, `cloud.region`, `cloud.account.id` and the configured workload attribute.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from typing import NamedTuple

from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue
from opentelemetry.proto.trace.v1.trace_pb2 import ResourceSpans, Span, Status

from collector_runtime.core.arns import is_account_id, is_region
from collector_runtime.core.records import actions_named_in

from .payload import decompressed, media_kind, parse_request
from .span_identifiers import IDENTIFIER_KEYS, canonical, is_identifier

AWS_API = "aws-api"
MAX_NAME = 128
MAX_VALUE = 2_048  # longer attribute values are not read (a workload name, a message: 2 KiB is plenty)
MAX_IDENTIFIERS = 64  # per span
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
_CODE_IN_MESSAGE = re.compile(
    r"An error occurred \(([A-Za-z][A-Za-z0-9.]{1,99})\)|api error ([A-Za-z][A-Za-z0-9.]{1,99}):"
)
_ERROR_TYPE = re.compile(r"^[A-Z][A-Za-z0-9]{1,99}$")
_GENERIC_ERRORS = frozenset(
    {"ClientError", "Error", "Exception", "SyntaxError", "TypeError", "OperationError", "ServiceException"}
)
_SYSTEM_KEYS = ("rpc.system", "rpc.system.name")  # the older convention's, the current one's
_SPAN_KEYS = frozenset(
    {*_SYSTEM_KEYS, "rpc.service", "rpc.method", "cloud.region", "aws.region", "aws.auth.region", "cloud.account.id"}
    | {"http.response.status_code", "http.status_code", "api.error_code", "exception.type", "exception.message"}
    | IDENTIFIER_KEYS
)
MAX_SPAN_NAME = 2 * MAX_NAME + 1  # `Service.Operation`
# Why an AWS SDK span could not be read (stats.json: otlp.rejected_reasons)
NO_OPERATION, NO_SERVICE, BAD_NAME = "no_operation", "no_service", "bad_name"
_REGION_KEYS = ("cloud.region", "aws.region", "aws.auth.region")
_EXCEPTION_KEYS = frozenset({"exception.type", "exception.message"})
_RESOURCE_KEYS = frozenset({"service.name", "faas.name", "cloud.region", "cloud.account.id"})
_ERROR = Status.StatusCode.STATUS_CODE_ERROR


class ResourceInfo(NamedTuple):
    """What a span's resource says about the workload that sent it."""

    service_name: str | None = None
    faas_name: str | None = None
    workload_attribute: str | None = None  # the value of the configured workload attribute, if any
    region: str | None = None
    account: str | None = None


class AwsSpan(NamedTuple):
    """One AWS API call as an instrumentation reported it, reduced to what a call record needs."""

    service: str  # rpc.service as sent ("S3", "SecretsManager", "Sns")
    operation: str  # rpc.method ("GetObject")
    resource: ResourceInfo
    kind: int = Span.SpanKind.SPAN_KIND_CLIENT
    region: str | None = None
    account: str | None = None
    start_ms: int | None = None
    failed: bool = False
    http_status: int | None = None
    error_code: str | None = None
    denied_actions: tuple[str, ...] = ()
    identifiers: tuple[tuple[str, str], ...] = ()  # (attribute, value) of span_identifiers.IDENTIFIER_KEYS only


class DecodedExport(NamedTuple):
    spans: tuple[AwsSpan, ...]
    ignored: int  # spans of anything but the AWS SDK (HTTP servers, databases, the function itself)
    rejected: int  # aws-api spans without a usable service or operation
    unreadable: tuple[tuple[str, int], ...] = ()  # the rejected ones by reason (NO_OPERATION, ...)


def decode_export(
    body: bytes,
    content_type: str | None,
    content_encoding: str | None,
    *,
    max_bytes: int,
    workload_attribute: str | None = None,
) -> DecodedExport:
    """The AWS SDK spans of one OTLP/HTTP traces request body.

    Raises `OtlpPayloadError` (its `status` is 400, 413 or 415) for a body that is not an OTLP traces
    request of at most `max_bytes` bytes once decompressed; never any other exception."""
    kind = media_kind(content_type)
    request = parse_request(decompressed(body, content_encoding, max_bytes=max_bytes), kind)
    spans: list[AwsSpan] = []
    ignored = 0
    unreadable: dict[str, int] = {}
    for resource_spans in request.resource_spans:
        resource = _resource_info(resource_spans, workload_attribute)
        for scope_spans in resource_spans.scope_spans:
            for span in scope_spans.spans:
                decoded = _aws_span(span, resource)
                if decoded is None:
                    ignored += 1
                elif isinstance(decoded, str):
                    unreadable[decoded] = unreadable.get(decoded, 0) + 1
                else:
                    spans.append(decoded)
    return DecodedExport(tuple(spans), ignored, sum(unreadable.values()), tuple(sorted(unreadable.items())))


def _resource_info(resource_spans: ResourceSpans, workload_attribute: str | None) -> ResourceInfo:
    wanted = _RESOURCE_KEYS | {workload_attribute} if workload_attribute else _RESOURCE_KEYS
    values = {kv.key: _string(kv.value) for kv in resource_spans.resource.attributes if kv.key in wanted}
    return ResourceInfo(
        service_name=values.get("service.name"),
        faas_name=values.get("faas.name"),
        workload_attribute=values.get(workload_attribute) if workload_attribute else None,
        region=_valid_region(values.get("cloud.region")),
        account=_account(values.get("cloud.account.id")),
    )


def _aws_span(span: Span, resource: ResourceInfo) -> AwsSpan | str | None:
    """None for a span that is no AWS API call; the reason for one whose call cannot be read."""
    attributes = _picked(span.attributes)
    if AWS_API not in (attributes.get("rpc.system"), attributes.get("rpc.system.name")):
        return None
    named = _service_and_operation(attributes, span.name)
    if isinstance(named, str):
        return named
    service, operation = named
    http_status = _status(attributes.get("http.response.status_code", attributes.get("http.status_code")))
    failed = span.status.code == _ERROR
    error_code, denied = _error_of(span, attributes, failed) if failed or span.events else (None, ())
    return AwsSpan(
        service,
        operation,
        resource,
        span.kind,
        _region(attributes),
        _account(attributes.get("cloud.account.id")),
        span.start_time_unix_nano // 1_000_000 or None,
        failed or (http_status is not None and http_status >= 400),
        http_status,
        error_code,
        denied,
        _identifiers(attributes, service) if not attributes.keys().isdisjoint(IDENTIFIER_KEYS) else (),
    )


def _service_and_operation(attributes: dict[str, object], span_name: str) -> tuple[str, str] | str:
    """Older convention: `rpc.service` and `rpc.method`. Current: `rpc.method` = `Service/Method` (otelaws).
    Java's agent with the stable RPC convention sends no method at all: the span's name, `Service.Operation`."""
    service, method = attributes.get("rpc.service"), attributes.get("rpc.method")
    if isinstance(method, str) and "/" in method:
        service, _, method = method.rpartition("/")
    elif method is None:
        if "." not in span_name or len(span_name) > MAX_SPAN_NAME:
            return NO_OPERATION
        from_name, _, method = span_name.rpartition(".")
        service = service if isinstance(service, str) else from_name
    if not service:
        return NO_SERVICE
    checked_service, checked_operation = _name(service), _name(method)
    if checked_service is None or checked_operation is None:
        return BAD_NAME
    return checked_service, checked_operation


def _picked(attributes: Iterable[KeyValue]) -> dict[str, object]:
    """The values of the attributes this module reads, as str, int or list of str (others dropped)."""
    picked: dict[str, object] = {}
    for kv in attributes:
        key = kv.key
        if key in _SPAN_KEYS:
            picked[key] = _plain(kv.value)
    return picked


def _plain(value: AnyValue) -> object:
    kind = value.WhichOneof("value")
    if kind == "string_value":
        return _string_of(value.string_value)
    if kind == "int_value":
        return value.int_value
    if kind == "array_value":
        items = value.array_value.values[:MAX_IDENTIFIERS]
        return [item.string_value for item in items if item.WhichOneof("value") == "string_value"]
    return None


def _region(attributes: dict[str, object]) -> str | None:
    for key in _REGION_KEYS:
        region = _valid_region(attributes.get(key))
        if region is not None:
            return region
    return None


def _error_of(span: Span, attributes: dict[str, object], failed: bool) -> tuple[str | None, tuple[str, ...]]:
    """The error code and the actions named by the span's exception event (or its status message); the Go
    SDK's own spans carry `exception.*` and `api.error_code` as attributes instead."""
    error_type = message = None
    for event in span.events:
        if event.name == "exception":
            values = {kv.key: _string(kv.value) for kv in event.attributes if kv.key in _EXCEPTION_KEYS}
            error_type, message = values.get("exception.type"), values.get("exception.message")
            break
    error_type = error_type or _text(attributes.get("exception.type"))
    message = message or _text(attributes.get("exception.message"))
    if failed:
        message = message or _string_of(span.status.message)
    code = _text(attributes.get("api.error_code"))
    if code is None or not _ERROR_TYPE.match(code):
        code = _error_code(error_type, message)
    return code, actions_named_in(message)


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _error_code(error_type: str | None, message: str | None) -> str | None:
    """botocore names the code in its message ("An error occurred (AccessDenied) ..."), Go in its
    ("api error AccessDenied: ..."); JavaScript and botocore's error factory in the exception type."""
    match = _CODE_IN_MESSAGE.search(message) if message else None
    if match:
        return match.group(1) or match.group(2)
    last = error_type.rsplit(".", 1)[-1] if error_type else ""
    return last if _ERROR_TYPE.match(last) and last not in _GENERIC_ERRORS else None


def _identifiers(attributes: dict[str, object], service: str) -> tuple[tuple[str, str], ...]:
    """(attribute, value) pairs, each read as the attribute it reports on this service's spans
    (`span_identifiers.canonical`: url.full of any other service is an arbitrary URL, never kept)."""
    kind = service.replace(" ", "").lower()
    found: list[tuple[str, str]] = []
    for key in sorted(IDENTIFIER_KEYS & attributes.keys()):
        value = attributes[key]
        for item in value if isinstance(value, list) else [value]:
            pair = canonical(key, item, kind) if isinstance(item, str) and item else None
            if pair is not None and is_identifier(*pair):
                found.append(pair)
    return tuple(dict.fromkeys(found))[:MAX_IDENTIFIERS]


def _string(value: AnyValue) -> str | None:
    return _string_of(value.string_value) if value.WhichOneof("value") == "string_value" else None


def _string_of(text: str) -> str | None:
    return text if text and len(text) <= MAX_VALUE else None


def _status(value: object) -> int | None:
    return value if isinstance(value, int) and 0 < value < 1000 else None


def _name(value: object) -> str | None:
    """A service or operation name: bounded, printable, no separators but space, dot, dash, underscore."""
    return _checked_name(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=1024)
def _checked_name(value: str) -> str | None:
    return value if len(value) <= MAX_NAME and _NAME.match(value) else None


def _valid_region(value: object) -> str | None:
    return _checked_region(value) if isinstance(value, str) else None


@functools.lru_cache(maxsize=256)
def _checked_region(value: str) -> str | None:
    return value if is_region(value) else None


def _account(value: object) -> str | None:
    return value if isinstance(value, str) and is_account_id(value) else None
