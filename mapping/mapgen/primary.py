"""The primary action(s) of one operation, and where the answer came from.

In order: the reviewed override, a service rule, no IAM at all (unsigned or bearer-token calls), the
same-named action, the action whose API documentation link names the operation, reviewed naming
patterns, and last AWS's own operation map (the service reference) for what none of those explains.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .iam_reference import IamReference
from .overrides import Overrides
from .service_reference import ReferenceOperation

# Operation auth schemes that never reach IAM: the caller presents a token, or nothing at all.
NO_IAM_AUTH = {"none", "smithy.api#noAuth", "bearer", "smithy.api#httpBearerAuth"}
VERSION_SUFFIX = re.compile(r"^(.+?)V\d+$")
HTTP_VERBS = {"GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"}
UNMAPPED = "unmapped"
SERVICE_REFERENCE = "service-reference"


@dataclass(frozen=True)
class Sources:
    iam: IamReference
    overrides: Overrides


@dataclass(frozen=True)
class Operation:
    """One operation of one service model, with what the generator knows about it."""

    service_id: str
    key: str  # the model's operation key (wire name without CloudFront's date suffix)
    spec: dict[str, Any]
    model: dict[str, Any]
    prefix: str | None
    reference: ReferenceOperation | None
    # what AWS lists for the operations this one's actions are named after, beyond them (service_reference)
    base_further: frozenset[str] = frozenset()

    @property
    def wire_name(self) -> str:
        return str(self.spec.get("name", self.key))


def entry(actions: list[str], source: str, **extra: Any) -> dict[str, Any]:
    result: dict[str, Any] = {"actions": sorted(set(actions)), "source": source}
    result.update({k: v for k, v in extra.items() if v})
    return result


def resolve_prefix(metadata: dict[str, Any], reference: IamReference, overrides: Overrides) -> str | None:
    override = overrides.prefixes.get(metadata["serviceId"])
    if override:
        return str(override["prefix"])
    for candidate in (metadata.get("signingName"), metadata.get("endpointPrefix")):
        if candidate in reference.actions:
            return str(candidate)
    return None


def map_primary(operation: Operation, sources: Sources) -> dict[str, Any]:
    """Map one operation to its primary action(s), saying where the answer came from."""
    override = sources.overrides.operation(operation.service_id, operation.wire_name, operation.key)
    if override:
        return from_override(override, sources.iam)
    service_rule = sources.overrides.services.get(operation.service_id)
    if service_rule:
        return _from_service_rule(service_rule, operation, sources.iam)
    if needs_no_iam(operation.spec, operation.model):
        return entry([], "no-iam-auth", note="the operation is not signed with AWS credentials")
    if operation.prefix is None:
        return _from_reference(operation, sources.iam, f"no IAM prefix known for service {operation.service_id!r}")
    return _from_names(operation, sources)


def _from_names(operation: Operation, sources: Sources) -> dict[str, Any]:
    prefix, key = str(operation.prefix), operation.key
    exact = sources.iam.find(prefix, key)
    if exact:
        return entry([exact], "same-name")
    doc_prefix = sources.overrides.prefixes.get(operation.service_id, {}).get("doc_name_prefix", "")
    documented = sorted(sources.iam.doc_links.get((prefix, doc_prefix + key), set()))
    if documented:
        return entry(documented, "api-doc-link")
    for source, candidate in name_variants(key):
        found = sources.iam.find(prefix, candidate)
        if found:
            return entry([found], source)
    return _from_reference(operation, sources.iam, f"no {prefix}:{key} (or documented equivalent) in the reference")


def _from_reference(operation: Operation, reference: IamReference, unmapped_note: str) -> dict[str, Any]:
    """AWS's map, for an operation no rule above explains; classification later keeps only what is required."""
    ref = operation.reference
    valid = [a for a in (ref.actions if ref else ()) if reference.canonical(a) == a]
    if not valid:
        return entry([], UNMAPPED, note=unmapped_note)
    return entry(valid, SERVICE_REFERENCE, note="AWS's operation map (service reference)")


def from_override(override: dict[str, Any], reference: IamReference) -> dict[str, Any]:
    actions = [require_valid(a, reference) for a in override.get("actions", [])]
    source = "permissionless" if not actions else "override"
    return entry(actions, source, note=override["why"], other_resource=override.get("other_resource"))


def _from_service_rule(rule: dict[str, Any], operation: Operation, reference: IamReference) -> dict[str, Any]:
    if rule["rule"] == "http-method":
        dedicated = _dedicated_actions(rule["prefix"], operation.reference, reference)
        if dedicated:
            note = "AWS's operation map names dedicated actions for this operation rather than an HTTP verb"
            return entry(dedicated, SERVICE_REFERENCE, note=note)
        action = require_valid(f"{rule['prefix']}:{operation.spec['http']['method']}", reference)
        return entry([action], "service-rule", note=rule["why"])
    if rule["rule"] == "single-action":
        return entry([require_valid(rule["action"], reference)], "service-rule", note=rule["why"])
    if rule["rule"] == "permissionless":
        return entry([], "permissionless", note=rule["why"])
    raise ValueError(f"unknown service rule {rule['rule']!r}")


def _dedicated_actions(prefix: str, ref: ReferenceOperation | None, reference: IamReference) -> list[str]:
    """Newer API Gateway features (portals, routing rules) have their own actions; AWS's map lists no verb."""
    if ref is None or ref.shared:
        return []
    names = [a.partition(":")[2] for a in ref.actions if a.startswith(f"{prefix}:")]
    if not names or HTTP_VERBS & set(names):
        return []
    return [a for a in ref.actions if reference.canonical(a) == a]


def require_valid(action: str, reference: IamReference) -> str:
    valid = reference.canonical(action)
    if valid is None:
        raise ValueError(f"override names {action!r}, which is not in the Service Authorization Reference")
    return valid


def needs_no_iam(op: dict[str, Any], model: dict[str, Any]) -> bool:
    schemes = set(op.get("auth") or []) | ({op["authtype"]} if "authtype" in op else set())
    if not schemes:
        meta = model["metadata"]
        schemes = set(meta.get("auth") or []) | {meta.get("signatureVersion", "")}
        return schemes <= NO_IAM_AUTH | {""} and bool(schemes - {""})
    return schemes <= NO_IAM_AUTH


def name_variants(op_key: str) -> list[tuple[str, str]]:
    """Reviewed naming patterns: batch forms need the single-item action; versioned APIs the unversioned one."""
    variants = []
    if op_key.startswith("Batch") and len(op_key) > 5:
        variants.append(("batch-of-single", op_key[5:]))
    if op_key.endswith("Batch") and len(op_key) > 5:
        variants.append(("batch-of-single", op_key[:-5]))
    versioned = VERSION_SUFFIX.match(op_key)
    if versioned:
        variants.append(("unversioned-name", versioned.group(1)))
    return variants
