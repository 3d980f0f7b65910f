"""Incremental per-workload aggregation of observed calls: O(1) per call, memory bounded per workload.

Pure: `ObservedCall`s come in (from any source), per-workload call usage and learned actions are
kept; the policy is derived from that usage when it is rendered (see `policy.py`), so a flush costs
in the number of distinct calls, never in the number of events.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from ..limits import MAX_NAMED_RESOURCE_WILDCARDS
from .mapping import PASS_ROLE, ActionMap, MayNeed, OperationMapping
from .records import DENIED, OK, ObservedCall
from .usage import (
    CALLS,
    DENIED_CALL,
    DENIED_MESSAGE,
    DEPENDENT,
    FIRST_SEEN,
    LAST_SEEN,
    MAPPED,
    OBSERVED,
    ActionOrigin,
    CallStats,
    CallUsage,
    Notice,
    Scope,
    Workload,
    usage_of,
)
from .wildcard import wildcard_count

MAX_PENDING_NOTICES = 1_000
K = TypeVar("K")
V = TypeVar("V")
Slot = tuple[Workload, CallUsage]


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what senders can make the collector remember; what is over them is dropped and counted."""

    max_workloads: int = 10_000
    max_calls_per_workload: int = 5_000  # distinct operations per workload
    max_scopes_per_call: int = 1_000  # distinct (region, account, resources) per operation of a workload
    max_cached_identities: int = 200_000  # caches only: cleared when full, never dropping data


class Aggregator:
    """Takes observed calls; keeps per-workload usage, learned actions and counters.

    The hot path (`add_all`) caches each (workload, service, operation) with its workload and usage.
    """

    def __init__(self, action_map: ActionMap, *, fails_only: bool = False, limits: Limits = Limits()) -> None:
        self.action_map = action_map
        self.fails_only = fails_only
        self.limits = limits
        self.workloads: dict[str, Workload] = {}
        self.stats = CallStats()
        self.notices: list[Notice] = []
        self._slots: dict[tuple[str, str, str], Slot] = {}
        # One copy, shared by every workload, of each operation's key and of each origin of an action: a
        # thousand workloads calling the same operations would otherwise hold as many equal tuples and origins.
        self._operation_keys: dict[tuple[str, str], tuple[str, str]] = {}
        self._origins: dict[tuple[str, str, str], ActionOrigin] = {}
        self.entries = 0  # operations and scopes kept so far: how much the state has grown (never less)

    def add(self, call: ObservedCall, count: int = 1, last_ms: int | None = None) -> bool:
        """Count `count` calls like `call` (the archive reports groups); False if a limit dropped them."""
        return self.add_all((call,), count, last_ms) == 1

    def add_all(self, calls: Iterable[ObservedCall], count: int = 1, last_ms: int | None = None) -> int:
        """Count each of `calls` (`count` calls like it); how many were kept (a limit drops the rest, counted).

        The hot path: a source's batch in one call (a call per record would cost each about a seventh more).
        A repeated record costs a dictionary lookup for its (workload, service, operation), a few counter
        updates and a set membership test for its scope."""
        slots, stats, fails_only = self._slots, self.stats, self.fails_only
        kept = 0
        for call in calls:
            name, _, service, operation, region, account, outcome, _, _, resources, members, time_ms = call
            slot = slots.get((name, service, operation)) or self._new_slot(call)
            if slot is None:
                continue
            kept += 1
            workload, usage = slot
            workload.revision += 1
            workload.calls += count
            row = usage.row
            first_call = not row[CALLS]
            row[CALLS] += count
            if outcome == OK and usage.kind == MAPPED:  # the common case, counted inline
                stats.calls += count
                stats.calls_mapped += count
            else:
                self._count_unusual(workload, usage, call, count)
            if time_ms is not None:
                last = time_ms if last_ms is None else last_ms
                seen = row[LAST_SEEN]
                if seen is None or last > seen:
                    row[LAST_SEEN] = last
                seen = row[FIRST_SEEN]
                if seen is None or time_ms < seen:
                    row[FIRST_SEEN] = time_ms
            scope = (region, account, resources)
            if scope not in usage.scope_set:
                scope = self._add_scope(workload, usage, scope)
            new_members = bool(members) and usage.add_members(scope, members)
            if new_members:
                workload.version += 1
            if first_call and not fails_only:  # a call counts towards the policy from its first call
                self.learn(workload, usage)
            elif new_members and usage.counted(fails_only):
                self._learn_triggered(workload, usage)
        return kept

    def _count_unusual(self, workload: Workload, usage: CallUsage, call: ObservedCall, count: int) -> None:
        """A failed call, or one that needs no permission or could not be mapped."""
        failed, denied = call.outcome != OK, call.outcome == DENIED
        if failed:
            usage.add_counts(0, count, count if denied else 0)
        self.stats.count(usage, count, failed, denied)
        if self.fails_only and failed and usage.failed == count:  # with fails_only: from its first failure
            self.learn(workload, usage)
        if denied and usage.denied == count:
            self._notify(workload.name, usage.mapping.service, usage.mapping.api, None, DENIED_CALL)
        if denied and call.denied_actions:  # a denied call is a failed one: it always counts
            self._learn_from_denial(workload, usage.mapping, call.denied_actions)

    def _new_slot(self, call: ObservedCall) -> Slot | None:
        workload = self._workload(call.workload)
        if workload is None:
            return None
        key = (call.service, call.operation)
        usage = workload.usage.get(key)
        if usage is None:
            if len(workload.usage) >= self.limits.max_calls_per_workload:
                self.stats.dropped["call_limit"] += 1
                return None
            key = _shared(self._operation_keys, key, key, self.limits.max_cached_identities)
            usage = workload.usage[key] = usage_of(self.action_map.lookup(*key), *key)
            self.entries += 1
        if len(self._slots) >= self.limits.max_cached_identities:
            self._slots.clear()  # a cache over `workloads`: rebuilt on demand
        slot = self._slots[(call.workload, *key)] = (workload, usage)
        return slot

    def _workload(self, name: str) -> Workload | None:
        workload = self.workloads.get(name)
        if workload is None:
            if len(self.workloads) >= self.limits.max_workloads:
                self.stats.dropped["workload_limit"] += 1
                return None
            workload = self.workloads[name] = Workload(name)
        return workload

    def _add_scope(self, workload: Workload, usage: CallUsage, scope: Scope) -> Scope:
        """A new place the operation was called in; returns the scope kept for it. Over the limit, the call
        still counts, without its resources: the policy then scopes it no narrower than its region and
        account (never lost)."""
        resources = scope[2]
        tame = tuple(r for r in resources if wildcard_count(r) <= MAX_NAMED_RESOURCE_WILDCARDS) if resources else ()
        if len(tame) < len(resources):  # a resource with more wildcards than any real one: dropped, counted
            self.stats.dropped["resource_pattern"] += 1
            scope = (scope[0], scope[1], tame)
            if scope in usage.scope_set:
                return scope
        if len(usage.scope_set) >= self.limits.max_scopes_per_call:
            self.stats.dropped["resource_limit"] += 1
            scope = (scope[0], scope[1], ())
            if scope in usage.scope_set:
                return scope
        region = scope[0]  # kept for good: one copy of each region name, not one per scope
        scope = (sys.intern(region) if type(region) is str else region, scope[1], scope[2])
        usage.add_scope(scope)
        workload.version += 1
        self.entries += 1
        return scope

    def learn(self, workload: Workload, usage: CallUsage) -> None:
        """Add the actions of an operation that now counts towards the policy."""
        mapping = usage.mapping
        workload.version += 1
        if not mapping.mapped:
            self._notify(workload.name, mapping.service, mapping.api, None, "unmapped")
        observed = self._origin(OBSERVED, mapping)
        for action in mapping.actions:
            self._record_action(workload, action, observed)
        members: set[str] = usage.members if usage.scope_members else set()
        for item in mapping.may_need:
            kind = OBSERVED if _granted(mapping, item, members) else DEPENDENT
            self._record_action(workload, item.action, self._origin(kind, mapping))

    def _learn_triggered(self, workload: Workload, usage: CallUsage) -> None:
        """A request set a member: the actions it triggers are granted (as the policy does), not listed."""
        mapping, members = usage.mapping, usage.members
        for item in mapping.may_need:
            if _granted(mapping, item, members):
                self._record_action(workload, item.action, self._origin(OBSERVED, mapping))

    def _learn_from_denial(self, workload: Workload, mapping: OperationMapping, named: tuple[str, ...]) -> None:
        for name in named:
            action = self.action_map.canonical_action(name)
            if action:
                self._record_action(workload, action, self._origin(DENIED_MESSAGE, mapping))

    def _origin(self, kind: str, mapping: OperationMapping) -> ActionOrigin:
        key = (kind, mapping.service, mapping.api)
        known = self._origins.get(key)  # looked up first: an origin is built once, not at every action learned
        return known or _shared(self._origins, key, ActionOrigin(*key), self.limits.max_cached_identities)

    def learn_denied_action(self, workload: Workload, action: str, origin: ActionOrigin) -> None:
        """An action a denial named, restored from a snapshot."""
        workload.actions.setdefault(action, origin)
        workload.has_denials = True

    def _record_action(self, workload: Workload, action: str, origin: ActionOrigin) -> None:
        known = workload.actions.get(action)
        if known is not None and (known.kind != DEPENDENT or origin.kind == DEPENDENT):
            return
        workload.actions[action] = origin
        workload.version += 1
        workload.has_denials = workload.has_denials or origin.kind == DENIED_MESSAGE
        if known is None or known.kind == DEPENDENT:  # new, or listed so far and granted now
            self._notify(workload.name, origin.service, origin.api, action, origin.kind)

    def _notify(self, workload: str, service: str, api: str, action: str | None, kind: str) -> None:
        if len(self.notices) < MAX_PENDING_NOTICES:  # built only when kept (a thousand workloads start at once)
            self.notices.append(Notice(workload, service, api, action, kind))
        else:
            self.stats.notices_dropped += 1

    def take_notices(self) -> list[Notice]:
        notices, self.notices = self.notices, []
        return notices


def _shared(cache: dict[K, V], key: K, value: V, limit: int) -> V:
    """The copy of `value` kept in `cache` under `key` (stored first if none); a full cache is cleared (its
    entries are only shared copies: nothing is lost)."""
    kept = cache.get(key)
    if kept is None:
        if len(cache) >= limit:
            cache.clear()
        kept = cache[key] = value
    return kept


def _granted(mapping: OperationMapping, item: MayNeed, members: set[str] | frozenset[str]) -> bool:
    """Whether the policy grants a request-dependent action (core.policy): a request set a member that needs
    it; a passed role only where the mapping knows to which service it goes."""
    return item.triggered_by(members) and (item.action != PASS_ROLE or bool(mapping.pass_role_services))
