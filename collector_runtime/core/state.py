"""Snapshot and restore the aggregator's state as JSON (restarts, `explain --output-dir`, `compare`).

The snapshot holds call usage, not actions: restoring re-maps every call with the current mapping
data, so an upgraded mapping improves policies learned before the upgrade. `StateSnapshots` keeps
each workload's serialised fragment and reuses it while the workload is unchanged, so a flush costs
in the number of workloads that changed since the last one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from .aggregate import Aggregator
from .json_codec import dumps_bytes
from .records import DEFAULT_WORKLOAD
from .saved_state import SavedCall, SavedState, parse_state
from .usage import CALL_FIELDS, DENIED_MESSAGE, ActionOrigin, Workload, usage_of

STATE_FORMAT = 3


def workload_state(workload: Workload) -> dict[str, Any]:
    return {
        "calls": [usage.row for usage in workload.usage.values()],  # live rows, already in CALL_FIELDS order
        "denied_actions": [
            {"action": action, "service": o.service, "api": o.api}
            for action, o in workload.actions.items()
            if o.kind == DENIED_MESSAGE
        ]
        if workload.has_denials
        else [],
    }


class StateSnapshots:
    """Renders state.json; a workload's fragment is reused while its revision is unchanged."""

    def __init__(self) -> None:
        self._fragments: dict[str, tuple[int, bytes]] = {}

    def render(self, aggregator: Aggregator, counters: dict[str, Any]) -> bytes:
        header = {
            "format": STATE_FORMAT,
            "mapping_inputs": aggregator.action_map.inputs,
            "call_fields": CALL_FIELDS,
            "stats": counters,
        }
        parts = [self._fragment(name, workload) for name, workload in sorted(aggregator.workloads.items())]
        return dumps_bytes(header)[:-1] + b',"workloads":{' + b",".join(parts) + b"}}\n"

    def prepare(self, aggregator: Aggregator, more_time: Callable[[], bool]) -> bool:
        """Serialise the changed workloads' fragments ahead, while there is time; whether all are ready."""
        for name, workload in aggregator.workloads.items():
            cached = self._fragments.get(name)
            if cached is None or cached[0] != workload.revision:
                if not more_time():
                    return False
                self._fragment(name, workload)
        return True

    def _fragment(self, name: str, workload: Workload) -> bytes:
        cached = self._fragments.get(name)
        if cached is not None and cached[0] == workload.revision:
            return cached[1]
        fragment = dumps_bytes(name) + b":" + dumps_bytes(workload_state(workload))
        self._fragments[name] = (workload.revision, fragment)
        return fragment


def restore(aggregator: Aggregator, state: dict[str, Any]) -> dict[str, Any]:
    """Merge a snapshot into `aggregator` (normally a fresh one), all of it or nothing (ValueError); returns
    the saved counters (the sources' totals continue from them)."""
    saved = parse_state(state)
    merge(aggregator, saved)
    return saved.counters


def merge(aggregator: Aggregator, saved: SavedState) -> None:
    """Merge a checked snapshot (`saved_state.parse_state`'s): nothing in it can fail half-way."""
    aggregator.stats.add(saved.call_stats)
    for saved_workload in saved.workloads:
        name = saved_workload.name or DEFAULT_WORKLOAD
        workload = aggregator.workloads.setdefault(name, Workload(name))
        for call in saved_workload.calls:
            _restore_call(aggregator, workload, call)
        for action, service, api in saved_workload.denied_actions:
            aggregator.learn_denied_action(workload, action, ActionOrigin(DENIED_MESSAGE, service, api))
        workload.version += 1
        workload.revision += 1


def _restore_call(aggregator: Aggregator, workload: Workload, call: SavedCall) -> None:
    key = (call.service, call.api)
    usage = workload.usage.get(key)
    if usage is None:
        usage = workload.usage[key] = usage_of(aggregator.action_map.lookup(*key), *key)
    was_counted = usage.counted(aggregator.fails_only)
    usage.add_counts(call.calls, call.failed, call.denied)
    workload.calls += call.calls
    for seen in call.seen_ms:
        usage.seen_at(seen)
    for scope in call.scopes:
        if scope not in usage.scope_set:
            usage.add_scope(scope)
    for scope, members in call.members:
        usage.add_members(scope, members)
    if not was_counted and usage.counted(aggregator.fails_only):
        aggregator.learn(workload, usage)
