"""AWS SDK spans to `ObservedCall`s: workload, service, outcome and resources.

Pure. The instrumentations spell `rpc.service` differently: botocore sends the serviceId ("Secrets
Manager"), JavaScript v3 strips its spaces ("SecretsManager"), Java uses client names ("Sns",
"DynamoDb"). `service_index` builds a case- and space-insensitive index over the serviceIds the
mapping knows (passed in, so this module loads no data); a name it does not know is kept as sent, so
the mapping reports it as unknown instead of it being dropped here.

Workload: the configured resource attribute if set, else `service.name` (unless it is an SDK default
such as "unknown_service:python"), else `faas.name`, else the default workload.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from collector_runtime.core.records import DEFAULT_WORKLOAD, OTLP, ObservedCall, outcome_of

from .arns import ARN_KEYS, account_of_arn, queue_url_account, resource_arns
from .spans import AwsSpan, DecodedExport, ResourceInfo

ServiceIndex = Mapping[str, str]  # normalised name -> serviceId
MAX_WORKLOAD = 255  # as a CSM ClientId
_SEPARATORS = re.compile(r"[\s_-]")
_UNKNOWN_SERVICE = "unknown_service"


def normalised_service(name: str) -> str:
    return _SEPARATORS.sub("", name).lower()


def service_index(service_ids: Iterable[str]) -> ServiceIndex:
    """The index `resolve_service` reads: every serviceId under its normalised spelling."""
    index: dict[str, str] = {}
    for service_id in sorted(service_ids):
        index.setdefault(normalised_service(service_id), service_id)
    return index


def resolve_service(name: str, services: ServiceIndex) -> str:
    """The serviceId a span's `rpc.service` names, or the name as sent when no known serviceId matches."""
    return services.get(normalised_service(name), name)


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
        account = account_of_arn(value) if key in ARN_KEYS else queue_url_account(value)
        if account:
            return account
    return None


def observed_call(span: AwsSpan, services: ServiceIndex) -> ObservedCall:
    region = span.region or span.resource.region
    account = account_of(span)
    return ObservedCall(
        workload=workload_of(span.resource),
        source=OTLP,
        service=resolve_service(span.service, services),
        operation=span.operation,
        region=region,
        account=account,
        outcome=outcome_of(failed=span.failed, error_code=span.error_code, status=span.http_status),
        error_code=span.error_code,
        denied_actions=span.denied_actions,
        resources=resource_arns(span.identifiers, region=region, account=account),
        time_ms=span.start_ms,
    )


def observed_calls(export: DecodedExport, services: ServiceIndex) -> list[ObservedCall]:
    return [observed_call(span, services) for span in export.spans]
