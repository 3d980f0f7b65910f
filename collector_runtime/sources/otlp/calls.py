"""AWS SDK spans to `ObservedCall`s: workload, service, outcome and resources.

Pure. The instrumentations spell `rpc.service` differently: botocore sends the serviceId ("Secrets
Manager"), JavaScript v3 strips its spaces ("SecretsManager"), Java uses client names ("Sns",
"DynamoDb"). The action map (the mapping's `ActionMap`, passed in, so this module loads no data) resolves
them case- and space-insensitively; a name it does not know is kept as sent, so the mapping reports it
as unknown instead of it being dropped here. The same action map gives the ARN formats of the service's
IAM prefix, which `core.identifier_arns` fills with the identifiers the span names.

Workload: the configured resource attribute if set, else `service.name` (unless it is an SDK default
such as "unknown_service:python"), else `faas.name`, else the default workload.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import NamedTuple, Protocol, TypeVar

from collector_runtime.core.identifier_arns import resource_arns
from collector_runtime.core.names import MAX_WORKLOAD
from collector_runtime.core.records import DEFAULT_WORKLOAD, OTLP, ObservedCall, outcome_of

from .span_identifiers import MEMBERS, account_in
from .spans import AwsSpan, DecodedExport, ResourceInfo, decode_export

MAX_MEMO = 50_000  # remembered services and identifiers (each repeats in nearly every span)
_UNKNOWN_SERVICE = "unknown_service"
Formats = Mapping[str, list[str]]
_NO_FORMATS: Formats = {}
_K = TypeVar("_K")
_V = TypeVar("_V")


class ActionMapView(Protocol):
    """What this module needs of the mapping (core.mapping.ActionMap has it)."""

    def resolve_service(self, service: str) -> str | None: ...

    def prefix_of(self, service: str) -> str | None: ...

    def formats_of(self, prefix: str) -> dict[str, list[str]]: ...


def resolve_service(name: str, action_map: ActionMapView) -> str:
    """The serviceId a span's `rpc.service` names, or the name as sent when no known serviceId matches."""
    return action_map.resolve_service(name) or name


def workload_of(resource: ResourceInfo) -> str:
    candidates = (resource.workload_attribute, resource.service_name, resource.faas_name)
    for candidate in candidates:
        if candidate and len(candidate) <= MAX_WORKLOAD and not candidate.startswith(_UNKNOWN_SERVICE):
            return candidate
    return DEFAULT_WORKLOAD


def account_of(span: AwsSpan) -> str | None:
    """cloud.account.id of the span, then of its resource, then the account in an ARN or queue URL."""
    if span.account or span.resource.account:
        return span.account or span.resource.account
    for key, value in span.identifiers:
        account = account_in(key, value)
        if account:
            return account
    return None


class Decoded(NamedTuple):
    """One body's records and the counts the receiver keeps (a DecodedExport with records for spans)."""

    calls: list[ObservedCall]
    ignored: int
    rejected: int
    unreadable: tuple[tuple[str, int], ...]


class SpanRecords:
    """Makes the records of decoded spans with one action map, remembering what repeats (bounded)."""

    def __init__(self, action_map: ActionMapView) -> None:
        self.action_map = action_map
        self._services: dict[str, tuple[str, Formats]] = {}
        self._arns: dict[tuple[str, str, str, str | None, str | None], tuple[str, ...]] = {}

    def calls(self, export: DecodedExport) -> list[ObservedCall]:
        return [self.call(span) for span in export.spans]

    def decode(
        self,
        body: bytes,
        content_type: str | None,
        content_encoding: str | None,
        *,
        max_bytes: int,
        workload_attribute: str | None,
    ) -> Decoded:
        """One request body's records and counts (`decode_export`, then `calls`); raises OtlpPayloadError for a
        body that is no export. What the receiver runs, in its thread or in a decode worker."""
        export = decode_export(
            body, content_type, content_encoding, max_bytes=max_bytes, workload_attribute=workload_attribute
        )
        return Decoded(self.calls(export), export.ignored, export.rejected, export.unreadable)

    def call(self, span: AwsSpan) -> ObservedCall:
        service, formats = self._service(span.service)
        region = span.region or span.resource.region
        account = account_of(span)
        return ObservedCall(
            workload=workload_of(span.resource),
            source=OTLP,
            service=service,
            operation=span.operation,
            region=region,
            account=account,
            outcome=outcome_of(failed=span.failed, error_code=span.error_code, status=span.http_status),
            error_code=span.error_code,
            denied_actions=span.denied_actions,
            resources=self._resources(service, formats, span, region, account) if span.identifiers else (),
            time_ms=span.start_ms,
        )

    def _service(self, name: str) -> tuple[str, Formats]:
        known = self._services.get(name)
        if known is None:
            service_id = self.action_map.resolve_service(name)
            prefix = self.action_map.prefix_of(service_id) if service_id else None
            known = (service_id or name, self.action_map.formats_of(prefix) if prefix else _NO_FORMATS)
            _remember(self._services, name, known)
        return known

    def _resources(
        self, service: str, formats: Formats, span: AwsSpan, region: str | None, account: str | None
    ) -> tuple[str, ...]:
        """Each identifier stands alone: no two attributes fill one ARN format together."""
        found: dict[str, None] = {}
        for key, value in span.identifiers:
            memo_key = (service, key, value, region, account)
            arns = self._arns.get(memo_key)
            if arns is None:
                arns = resource_arns(formats, {MEMBERS[key]: value}, region=region, account=account)
                _remember(self._arns, memo_key, arns)
            found.update(dict.fromkeys(arns))
        return tuple(found)


def _remember(memo: dict[_K, _V], key: _K, value: _V) -> None:
    if len(memo) >= MAX_MEMO:
        memo.clear()
    memo[key] = value


def observed_calls(export: DecodedExport, action_map: ActionMapView) -> list[ObservedCall]:
    """The records of one decoded export (a receiver keeps one `SpanRecords` instead, for its memo)."""
    return SpanRecords(action_map).calls(export)
