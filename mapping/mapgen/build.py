"""Assemble the mapping data: every service and operation, with the inputs it was built from."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from typing import Any

from botocore import xform_name

from .classify import classify
from .iam_reference import resource_formats
from .members import InputShape
from .models import ServiceModel
from .overrides import with_required_resources
from .primary import Operation, Sources, map_primary, resolve_prefix
from .service_reference import ReferenceOperation, ServiceReference, further_of_bases

FORMAT_VERSION = 2


@dataclass
class Built:
    """The data, plus what the report needs: why each extra was decided so, AWS's entry per operation."""

    data: dict[str, Any]
    reasons: Counter[str] = field(default_factory=Counter)
    reference_of: dict[tuple[str, str], ReferenceOperation | None] = field(default_factory=dict)
    origin_of: dict[str, str] = field(default_factory=dict)
    other_sdks: dict[str, Any] = field(default_factory=dict)


def build(
    models: list[ServiceModel], sources: Sources, service_ref: ServiceReference, versions: dict[str, str]
) -> Built:
    built = Built(data={})
    services: dict[str, dict[str, Any]] = {}
    qualified: set[str] = set()  # actions of operations that take a Lambda qualifier
    for service in models:
        meta = service.model["metadata"]
        prefix = resolve_prefix(meta, sources.iam, sources.overrides)
        record = services.setdefault(service.service_id, {"prefix": prefix, "aliases": [], "operations": {}})
        record["aliases"] = sorted(set(record["aliases"]) | service.aliases)
        for key, spec in service.model["operations"].items():
            ref = _join(service, key, prefix, service_ref)
            operation = Operation(
                service.service_id, key, spec, service.model, prefix, ref, further_of_bases(ref, service_ref)
            )
            passed_to = service_ref.passed_to_by_service.get(
                operation.reference.service if operation.reference else prefix or "", set()
            )
            mapped = classify(operation, map_primary(operation, sources), sources, passed_to)
            built.reasons.update(mapped.pop("reasons", {}))
            record["operations"][operation.wire_name] = mapped
            if prefix == "lambda" and QUALIFIER in InputShape(service.model, spec).names:
                qualified.update(mapped["actions"])
            built.reference_of[(service.service_id, operation.wire_name)] = operation.reference
        built.origin_of.setdefault(service.service_id, service.origin)
    built.data = {
        "format": FORMAT_VERSION,
        "inputs": versions,
        "services": {sid: services[sid] for sid in sorted(services)},
        "iam_actions": {p: sorted(names.values()) for p, names in sorted(sources.iam.actions.items())},
        "s3_scopes": sources.iam.s3_scopes,
        "action_resources": dict(
            sorted(
                with_qualified_functions(
                    with_required_resources(sources.iam.action_resources, sources.overrides.resources), qualified
                ).items()
            )
        ),
        "resource_formats": resource_formats(sources.iam, service_ref.arn_formats),
    }
    return built


# Lambda authorizes a call that names a version or an alias (its `Qualifier`, or `name:qualifier`) on the
# qualified ARN, `function:NAME:QUALIFIER` (AWS's change of 2022-01-24; Lambda's documentation lists function,
# version and alias resources for these actions), where AWS's table lists `function` alone: such an action
# also has the version and alias types, so a qualified call is granted on what it named.
QUALIFIER = "Qualifier"
QUALIFIED_TYPES = ("function alias", "function version")


def with_qualified_functions(action_resources: dict[str, list[str]], qualified: set[str]) -> dict[str, list[str]]:
    """The resource types per action, with Lambda's version and alias types added to the qualified actions."""
    marked = dict(action_resources)
    for action in sorted(qualified):
        kinds = marked.get(action, [])
        if "function*" in kinds:
            marked[action] = sorted(set(kinds) | {k for k in QUALIFIED_TYPES if k + "*" not in kinds})
    return marked


def _join(
    service: ServiceModel, key: str, prefix: str | None, service_ref: ServiceReference
) -> ReferenceOperation | None:
    """AWS's entry for the operation: by Boto3 client and method, else (services botocore dropped) by name."""
    found = service_ref.lookup(service.client, xform_name(key))
    if found is None and service.origin != "botocore" and prefix:
        found = service_ref.lookup_by_name(prefix, key)
    return found


def drop_ambiguous_aliases(data: dict[str, Any]) -> None:
    """An alias that two services claim, or that is another service's id, identifies nothing."""
    owners: dict[str, set[str]] = defaultdict(set)
    for service_id, record in data["services"].items():
        for alias in record["aliases"]:
            owners[alias.lower()].add(service_id)
    ids = {sid.lower() for sid in data["services"]}
    for record in data["services"].values():
        record["aliases"] = [a for a in record["aliases"] if len(owners[a.lower()]) == 1 and a.lower() not in ids]
