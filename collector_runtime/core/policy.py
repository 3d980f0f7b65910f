"""Render a workload's learned actions as an IAM policy document. Pure and deterministic.

Statements:
- `ObservedCalls`: actions the workload's calls needed, on any resource;
- `ObservedCallsOnBuckets<N>`: S3 actions scoped to the buckets the calls named (CSM: virtual-hosted
  requests);
- `DependentActions`: actions the calls may also need, from the Service Authorization Reference's
  dependent actions or because the call passes a role (iam:PassRole), kept apart so users can tell
  them from what was observed.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from .mapping import ActionMap
from .policy_size import POLICY_VERSION
from .usage import DENIED_MESSAGE, DEPENDENT, CallUsage, Workload


@dataclass(frozen=True, slots=True)
class PolicyOptions:
    sort_alphabetical: bool = True
    force_wildcard_resource: bool = False
    include_dependent: bool = False  # request-dependent actions are listed, granted only when asked for
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
    scoped = {} if options.force_wildcard_resource else _s3_resources(workload, action_map, options)
    grants: Grants = {}
    for action, origin in workload.actions.items():
        if origin.kind == DEPENDENT:
            if options.include_dependent:
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
        if usage.mapping.service_id != "S3" or not usage.counted(options.fails_only):
            continue
        for action in usage.mapping.actions:
            resources = _resources_for(action, usage, action_map)
            scoped[action] = resources if action not in scoped else _union(scoped[action], resources)
    return scoped


def _resources_for(action: str, usage: CallUsage, action_map: ActionMap) -> set[str] | None:
    scope = action_map.s3_scope(action)
    if scope is None or action in usage.mapping.other_resource:
        return None
    buckets = {arn for _, _, resources in usage.scopes for arn in resources}
    if not buckets or any(not resources for _, _, resources in usage.scopes):
        return None  # some call named no bucket: the action stays on "*"
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
