"""Render a workload's learned actions as IAM policy documents. Pure and deterministic.

Statements:
- `ObservedCalls`: actions the workload's calls needed, on any resource (CSM names no resources);
- `ObservedCallsOnBuckets<N>`: S3 actions scoped to the buckets CSM revealed (virtual-hosted requests);
- `DependentActions`: actions the calls may also need, from the Service Authorization Reference's
  dependent actions or because the call passes a role (iam:PassRole), kept apart so users can tell
  them from what was observed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .aggregate import ANY_BUCKET, DENIED_MESSAGE, DEPENDENT, ApiUsage, Workload
from .mapping import ActionMap

try:  # policies are ASCII (action names, ARNs), so orjson's compact bytes count the same characters
    import orjson

    _compact: Any = orjson.dumps
except ImportError:  # pragma: no cover - exercised where orjson is absent

    def _compact(document: dict[str, Any]) -> str:
        return json.dumps(document, separators=(",", ":"))


POLICY_VERSION = "2012-10-17"
MANAGED_POLICY_MAX_CHARS = 6_144  # IAM's managed-policy limit, counted without white space


@dataclass(frozen=True, slots=True)
class PolicyOptions:
    sort_alphabetical: bool = True
    force_wildcard_resource: bool = False
    include_dependent: bool = True
    fails_only: bool = False


@dataclass(frozen=True, slots=True)
class Grant:
    resources: frozenset[str] | None  # None: any resource ("*")
    dependent: bool


Grants = dict[str, Grant]
ANY_RESOURCE = Grant(None, dependent=False)  # shared: most grants are one of these two
DEPENDENT_ANY_RESOURCE = Grant(None, dependent=True)


def workload_grants(workload: Workload, action_map: ActionMap, options: PolicyOptions) -> Grants:
    """Action -> resources for one workload, in first-seen order."""
    if options.force_wildcard_resource or not workload.s3_buckets:
        scoped: dict[str, set[str] | None] = {}  # no bucket hint: every action on "*"
    else:
        scoped = _s3_resources(workload, action_map, options)
    grants: Grants = {}
    for action, origin in workload.actions.items():
        if origin.kind == DEPENDENT and not options.include_dependent:
            continue
        if origin.kind == DEPENDENT:
            grants[action] = DEPENDENT_ANY_RESOURCE
            continue
        resources = None if origin.kind == DENIED_MESSAGE else scoped.get(action)
        grants[action] = ANY_RESOURCE if resources is None else Grant(frozenset(resources), dependent=False)
    return grants


def merge_grants(all_grants: Iterable[Grants]) -> Grants:
    merged: Grants = {}
    for grants in all_grants:
        for action, grant in grants.items():
            known = merged.get(action)
            if known is None or known is grant:
                merged[action] = grant
            else:
                resources = (
                    None if known.resources is None or grant.resources is None else known.resources | grant.resources
                )
                merged[action] = Grant(resources, known.dependent and grant.dependent)
    return merged


def _union(a: set[str] | None, b: set[str] | None) -> set[str] | None:
    return None if a is None or b is None else a | b


def _s3_resources(workload: Workload, action_map: ActionMap, options: PolicyOptions) -> dict[str, set[str] | None]:
    scoped: dict[str, set[str] | None] = {}
    for usage in workload.usage.values():
        if not workload.included(usage, options.fails_only):
            continue
        for action in usage.mapping.actions:
            resources = _resources_for(action, usage, workload, action_map)
            scoped[action] = resources if action not in scoped else _union(scoped[action], resources)
    return scoped


def _resources_for(action: str, usage: ApiUsage, workload: Workload, action_map: ActionMap) -> set[str] | None:
    scope = action_map.s3_scope(action)
    if scope is None or action in usage.mapping.other_resource:
        return None
    if action_map.resolve_service(usage.mapping.service) != "S3":
        return None
    buckets = workload.s3_buckets.get(usage.mapping.api)
    if not buckets or ANY_BUCKET in buckets:
        return None
    return {f"{arn}/*" if scope == "object" else arn for arn in buckets}


def render_policy(grants: Grants, options: PolicyOptions) -> dict[str, Any]:
    order = sorted if options.sort_alphabetical else list
    wildcard = [a for a, g in grants.items() if not g.dependent and g.resources is None]
    by_resources: dict[tuple[str, ...], list[str]] = {}
    for action, grant in grants.items():
        if not grant.dependent and grant.resources is not None:
            by_resources.setdefault(tuple(sorted(grant.resources)), []).append(action)
    dependent = [a for a, g in grants.items() if g.dependent]
    statements = []
    if wildcard:
        statements.append(_statement("ObservedCalls", order(wildcard), "*"))
    for index, resources in enumerate(sorted(by_resources), start=1):
        statements.append(_statement(f"ObservedCallsOnBuckets{index}", order(by_resources[resources]), list(resources)))
    if dependent:
        statements.append(_statement("DependentActions", order(dependent), "*"))
    return {"Version": POLICY_VERSION, "Statement": statements}


def _statement(sid: str, actions: list[str], resource: str | list[str]) -> dict[str, Any]:
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


def policy_size(document: dict[str, Any]) -> int:
    """Characters IAM counts against its limits: the document without white space."""
    return len(_compact(document))


def split_policy(document: dict[str, Any], max_chars: int = MANAGED_POLICY_MAX_CHARS) -> list[dict[str, Any]]:
    """Documents under `max_chars` each, together granting exactly what `document` grants."""
    if policy_size(document) <= max_chars:
        return [document]
    parts: list[dict[str, Any]] = []
    current = _empty()
    for statement in document["Statement"]:
        for action in statement["Action"]:
            if not _try_add(current, statement, action, max_chars) and current["Statement"]:
                parts.append(current)
                current = _empty()
                _try_add(current, statement, action, max_chars=None)
    if current["Statement"]:
        parts.append(current)
    return parts


def _empty() -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": []}


def _try_add(part: dict[str, Any], statement: dict[str, Any], action: str, max_chars: int | None) -> bool:
    last = part["Statement"][-1] if part["Statement"] else None
    if last is None or last["Sid"] != statement["Sid"]:
        part["Statement"].append({**statement, "Action": [action]})
        added = part["Statement"]
    else:
        last["Action"].append(action)
        added = last["Action"]
    if max_chars is None or policy_size(part) <= max_chars:
        return True
    added.pop()
    return False
