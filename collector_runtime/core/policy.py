"""A workload's least-privilege policy, from the calls it made. Pure and deterministic.

What is granted, per counted operation (see `scoping.py` for the resources):
- the actions every request of it needs, on the resources its calls named or could be scoped to;
- a request-dependent action when a call set a member that triggers it (a source that sees requests:
  the proxy), or with `--dependent-actions` every one of them, kept in `DependentActions` statements;
- actions an AccessDenied message named, on the resources it named or the call's scope;
- `iam:PassRole` only in its own statements, with `"Condition": {"StringEquals": {"iam:PassedToService":
  [...]}}` and the role ARNs when a source named them (else the account's roles).
What a request may also need but no call showed is listed (`may_need`), never granted.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .accounts import caller_account, in_account
from .arns import without_covered
from .generalize import Decision, Generalization, decide
from .identifier_arns import other_resources
from .mapping import PASS_ROLE, ActionMap, MayNeed, OperationMapping
from .policy_size import POLICY_VERSION
from .scoping import ANY, REGION_SCOPE, Scoper
from .usage import CALLS, DENIED_MESSAGE, FAILED, SCOPES, CallUsage, Scope, Workload

Use = tuple[CallUsage, "list[Scope] | None"]  # a usage needing an action, in these of its scopes (None: all)

OBSERVED_SID, DEPENDENT_SID, PASS_ROLE_SID = "ObservedCalls", "DependentActions", "PassRole"


@dataclass(frozen=True, slots=True)
class PolicyOptions:
    sort_alphabetical: bool = True
    force_wildcard_resource: bool = False
    include_dependent: bool = False  # request-dependent actions are listed, granted only when asked for
    fails_only: bool = False
    resource_scope: str = REGION_SCOPE  # region, account or none: what a scoped ARN assumes of the call
    exact_names: bool = False  # grant the observed names as they are (no generalization, see generalize.py)


@dataclass(frozen=True, slots=True)
class MayNeedNote:
    """An action some request of an operation would need, that no observed request did."""

    action: str
    when: tuple[str, ...]
    via: str  # Service.Operation


@dataclass
class Grants:
    observed: dict[str, frozenset[str]] = field(default_factory=dict)  # action -> resource patterns
    dependent: dict[str, frozenset[str]] = field(default_factory=dict)  # --dependent-actions
    pass_role: dict[frozenset[str], frozenset[str]] = field(default_factory=dict)  # passed-to services -> roles
    may_need: list[MayNeedNote] = field(default_factory=list)
    generalized: tuple[Generalization, ...] = ()  # the patterns granted instead of observed names, and why

    def actions(self) -> set[str]:
        return set(self.observed) | set(self.dependent) | ({PASS_ROLE} if self.pass_role else set())


class PolicyBuilder:
    """Grants and documents; the scoper's memory makes a re-render of a similar workload cheap."""

    def __init__(self, action_map: ActionMap, options: PolicyOptions) -> None:
        self.action_map = action_map
        self.options = options
        self.scoper = Scoper(action_map, options.resource_scope)
        self._notes: dict[OperationMapping, tuple[MayNeedNote, ...]] = {}  # when no request showed a member

    def grants(self, workload: Workload) -> Grants:
        needed: dict[str, list[Use]] = {}  # action -> the usages (and their scopes) that need it
        dependent: dict[str, list[Use]] = {}
        pass_role: dict[frozenset[str], list[Use]] = {}
        grants = Grants()
        fails_only = self.options.fails_only
        for usage in workload.usage.values():
            if usage.row[CALLS] and (usage.row[FAILED] or not fails_only):  # counted (inline: every usage)
                self._collect(usage, needed, dependent, pass_role, grants.may_need)
        for action, origin in workload.actions.items():
            denied = workload.usage.get((origin.service, origin.api))
            if origin.kind == DENIED_MESSAGE and denied is not None and action != PASS_ROLE:
                needed.setdefault(action, []).append((denied, None))
        account = caller_account(scope for usage in workload.usage.values() for scope in usage.scopes)
        grants.observed = {a: self._resources(a, u, account) for a, u in needed.items()}
        grants.dependent = {a: self._resources(a, u, account) for a, u in dependent.items() if a not in needed}
        grants.pass_role = {s: self._resources(PASS_ROLE, u, account) for s, u in pass_role.items()}
        if not self.options.exact_names:
            _generalize(grants)
        return grants

    def _collect(
        self,
        usage: CallUsage,
        needed: dict[str, list[Use]],
        dependent: dict[str, list[Use]],
        pass_role: dict[frozenset[str], list[Use]],
        may_need: list[MayNeedNote],
    ) -> None:
        mapping = usage.mapping
        every_scope: Use = (usage, None)
        for action in mapping.actions:
            target = pass_role.setdefault(frozenset(mapping.pass_role_services), []) if action == PASS_ROLE else None
            (target if target is not None else needed.setdefault(action, [])).append(every_scope)
        if not mapping.may_need:
            return
        if not usage.scope_members and not self.options.include_dependent:  # the common case: all listed
            may_need.extend(self._listed(mapping))
            return
        for item in mapping.may_need:
            triggered = _triggered_scopes(usage, item)
            use: Use = (usage, triggered) if triggered else every_scope
            if item.action == PASS_ROLE:
                if mapping.pass_role_services and (triggered or self.options.include_dependent):
                    pass_role.setdefault(frozenset(mapping.pass_role_services), []).append(use)
                else:
                    may_need.append(MayNeedNote(item.action, item.when, _via(mapping)))
            elif triggered:
                needed.setdefault(item.action, []).append(use)
            elif self.options.include_dependent:
                dependent.setdefault(item.action, []).append(use)
            else:
                may_need.append(MayNeedNote(item.action, item.when, _via(mapping)))

    def _listed(self, mapping: OperationMapping) -> tuple[MayNeedNote, ...]:
        notes = self._notes.get(mapping)
        if notes is None:
            via = _via(mapping)
            notes = self._notes[mapping] = tuple(MayNeedNote(m.action, m.when, via) for m in mapping.may_need)
        return notes

    def _resources(self, action: str, uses: list[Use], account: str | None) -> frozenset[str]:
        """`account`: the caller's one account, for the calls whose source could not tell it."""
        if self.options.force_wildcard_resource:
            return ANY
        if len(uses) == 1:
            usage, only = uses[0]
            scopes = usage.row[SCOPES] if only is None else only
            if len(scopes) == 1 and action not in usage.mapping.other_resource:
                return self.scoper.patterns(action, _in_account(scopes[0], account))  # the common case
        scopes = (_in_account(scope, account) for use in uses for scope in _scopes_for(action, *use))
        return self.scoper.union(action, scopes)

    def document(self, grants: Grants) -> dict[str, Any]:
        order = sorted if self.options.sort_alphabetical else list
        statements = list(_grouped(OBSERVED_SID, grants.observed, order))
        for index, (services, roles) in enumerate(sorted(grants.pass_role.items(), key=_sort_key), start=1):
            condition = {"StringEquals": {"iam:PassedToService": sorted(services)}}
            sid = PASS_ROLE_SID if len(grants.pass_role) == 1 else f"{PASS_ROLE_SID}{index}"
            statements.append(_statement(sid, [PASS_ROLE], roles) | {"Condition": condition})
        statements += _grouped(DEPENDENT_SID, grants.dependent, order)
        return {"Version": POLICY_VERSION, "Statement": statements}


def _generalize(grants: Grants) -> None:
    """Replace the observed names of every grant with the patterns decided for all of them at once."""
    tables: tuple[dict[Any, frozenset[str]], ...] = (grants.observed, grants.dependent, grants.pass_role)
    decision = decide(name for table in tables for names in table.values() for name in names)
    if not decision.patterns:
        return
    for table in tables:
        for key, names in table.items():
            table[key] = _applied(decision, names)
    grants.generalized = decision.generalizations


def _applied(decision: Decision, names: frozenset[str]) -> frozenset[str]:
    if not any(name in decision.patterns for name in names):
        return names
    return without_covered(decision.apply(names))


def _in_account(scope: Scope, account: str | None) -> Scope:
    """A scope whose source did not know the caller's account, in `account` (its ARNs filled with `*` too)."""
    if scope[1] or not account:
        return scope
    return scope[0], account, tuple(in_account(arn, account) for arn in scope[2])


def _triggered_scopes(usage: CallUsage, item: MayNeed) -> list[Scope]:
    """The scopes (in first-seen order) of the requests that set a member needing `item`'s action."""
    if not usage.scope_members:
        return []
    members = usage.scope_members
    return [scope for scope in usage.scopes if scope in members and item.triggered_by(members[scope])]


def _scopes_for(action: str, usage: CallUsage, only: list[Scope] | None) -> Iterator[Scope]:
    """Where the calls were made (`only` those, if given); for an action on another resource than the
    request's target (CopyObject's s3:GetObject reads the source), the resources the call named are not
    the action's."""
    scopes = usage.scopes if only is None else only
    if action in usage.mapping.other_resource:
        return ((region, account, other_resources(resources)) for region, account, resources in scopes)
    return iter(scopes)


def _via(mapping: OperationMapping) -> str:
    return f"{mapping.service}.{mapping.api}"


def _sort_key(item: tuple[frozenset[str], frozenset[str]]) -> tuple[list[str], list[str]]:
    return sorted(item[0]), sorted(item[1])


def _grouped(sid: str, actions: dict[str, frozenset[str]], order: Any) -> Iterator[dict[str, Any]]:
    """One statement per set of resources: `Sid` for "*", `Sid1`, `Sid2`, ... for the scoped ones."""
    groups: dict[frozenset[str], list[str]] = {}
    for action, resources in actions.items():
        groups.setdefault(resources, []).append(action)
    if ANY in groups:
        yield _statement(sid, order(groups.pop(ANY)), ANY)
    for index, resources in enumerate(sorted(groups, key=sorted), start=1):
        yield _statement(f"{sid}{index}", order(groups[resources]), resources)


def _statement(sid: str, actions: list[str], resources: frozenset[str]) -> dict[str, Any]:
    resource: str | list[str] = "*" if resources == ANY else sorted(resources)
    return {"Sid": sid, "Effect": "Allow", "Action": actions, "Resource": resource}


def merge_grants(all_grants: Iterable[Grants]) -> Grants:
    """Everything any workload is granted (policy.json)."""
    observed: dict[str, set[str]] = {}
    dependent: dict[str, set[str]] = {}
    pass_role: dict[frozenset[str], set[str]] = {}
    for grants in all_grants:
        for target, source in ((observed, grants.observed), (dependent, grants.dependent)):
            for action, resources in source.items():
                target.setdefault(action, set()).update(resources)
        for services, roles in grants.pass_role.items():
            pass_role.setdefault(services, set()).update(roles)
    for action in set(dependent) & set(observed):
        observed[action] |= dependent.pop(action)
    return Grants(observed=_reduced(observed), dependent=_reduced(dependent), pass_role=_reduced(pass_role))


def _reduced(found: dict[Any, set[str]]) -> dict[Any, frozenset[str]]:
    return {key: ANY if "*" in patterns else without_covered(patterns) for key, patterns in found.items()}
