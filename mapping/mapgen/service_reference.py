"""AWS's service reference (the machine-readable Service Authorization Reference), vendored and gzipped.

Read from `mapping/service-reference/` only: never from a shared folder or the network. Operations are
joined on the Boto3 client and method AWS lists for them (`SDK`), because operation names collide
across clients that share an IAM prefix (S3 and S3 Control are both under `s3`).
"""

from __future__ import annotations

import gzip
import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REFERENCE_DATE = "2026-08-22"
REFERENCE_FILE = (
    Path(__file__).resolve().parent.parent / "service-reference" / f"service-reference-{REFERENCE_DATE}.json.gz"
)
PASSED_TO_SERVICE = "iam:PassedToService"


@dataclass(frozen=True)
class ReferenceOperation:
    """One entry of a service's `Operations`: the actions AWS authorizes it with (over all request variants)."""

    service: str
    name: str
    clients: tuple[str, ...]
    actions: tuple[str, ...]
    passed_to: tuple[str, ...] = ()

    @property
    def shared(self) -> bool:
        """Listed for several Boto3 clients: the actions may describe only one client's operation."""
        return len(self.clients) > 1


@dataclass
class ServiceReference:
    by_method: dict[tuple[str, str], ReferenceOperation] = field(default_factory=dict)
    by_name: dict[tuple[str, str], ReferenceOperation] = field(default_factory=dict)
    passed_to_by_service: dict[str, set[str]] = field(default_factory=dict)
    arn_formats: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def lookup(self, client: str, method: str) -> ReferenceOperation | None:
        return self.by_method.get((client, method))

    def lookup_by_name(self, prefix: str, operation: str) -> ReferenceOperation | None:
        """For services botocore no longer has (no Boto3 method to join on): the operation of that name."""
        return self.by_name.get((prefix, operation))


def load_service_reference(path: Path = REFERENCE_FILE) -> ServiceReference:
    with gzip.open(path, "rt", encoding="utf-8") as stream:
        documents: dict[str, Any] = json.load(stream)
    reference = ServiceReference()
    passed_to: dict[str, set[str]] = defaultdict(set)
    for service, document in sorted(documents.items()):
        reference.arn_formats[service] = _arn_formats(document)
        for raw in document.get("Operations", []):
            operation = _operation(service, raw)
            passed_to[service].update(operation.passed_to)
            reference.by_name[(service, operation.name)] = operation
            for sdk in raw.get("SDK", []):
                if sdk.get("Package") == "Boto3":
                    reference.by_method[(sdk["Name"], sdk["Method"])] = operation
    reference.passed_to_by_service = {s: v for s, v in passed_to.items() if v}
    return reference


def further_of_bases(ref: ReferenceOperation | None, reference: ServiceReference) -> frozenset[str]:
    """The actions of `ref` that AWS also lists for a base operation beside its namesake action.

    An operation AWS authorizes with other operations' actions is a variant of them: CreateDistributionWithTags
    lists cloudfront:CreateDistribution, CreateConnectionGroup, GetVpcOrigin and TagResource; AWS's entry for
    CreateDistribution lists CreateConnectionGroup and GetVpcOrigin beside CreateDistribution, where they are
    needed by some requests only (a multi-tenant distribution, a VPC origin). Listed one way only: when two of
    the actions list each other, neither is the base of the other, and nothing is decided."""
    if ref is None:
        return frozenset()
    own = set(ref.actions)
    further: dict[str, set[str]] = {}
    for action in ref.actions:
        prefix, _, name = action.partition(":")
        base = reference.by_name.get((prefix, name))
        if base is not None and base.name != ref.name:
            further[action] = set(base.actions) & own - {action}
    return frozenset(x for base, listed in further.items() for x in listed if base not in further.get(x, set()))


def _operation(service: str, raw: dict[str, Any]) -> ReferenceOperation:
    authorized = raw.get("AuthorizedActions", [])
    passed_to = {
        value
        for action in authorized
        if (action["Service"], action["Name"]) == ("iam", "PassRole")
        for value in action.get("Context", {}).get(PASSED_TO_SERVICE, [])
    }
    return ReferenceOperation(
        service=service,
        name=raw["Name"],
        clients=tuple(sorted({sdk["Name"] for sdk in raw.get("SDK", []) if sdk.get("Package") == "Boto3"})),
        actions=tuple(sorted({f"{a['Service']}:{a['Name']}" for a in authorized})),
        passed_to=tuple(sorted(passed_to)),
    )


def _arn_formats(document: dict[str, Any]) -> dict[str, list[str]]:
    return {r["Name"]: sorted(r.get("ARNFormats", [])) for r in document.get("Resources", []) if r.get("ARNFormats")}
