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
from .usage import CALL_FIELDS, DENIED_MESSAGE, ActionOrigin, Scope, Workload, usage_of

STATE_FORMAT = 3
READABLE_FORMATS = (2, 3)  # format 2: before scopes (S3 buckets per operation instead)


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
    """Merge a snapshot into `aggregator` (normally a fresh one); returns the saved counters (the
    sources' totals continue from them). Unknown fields are ignored."""
    if state.get("format") not in READABLE_FORMATS:
        raise ValueError(f"unsupported state format {state.get('format')!r}")
    counters: dict[str, Any] = dict(state.get("stats", {}))
    counters.setdefault("calls", counters.get("api_call_events", 0))  # format 2 counted calls as ApiCall events
    if "csm" not in counters and "datagrams_received" in counters:  # before sections: CSM's counters at the top
        counters["csm"] = {key: counters[key] for key in _FLAT_CSM_COUNTERS if key in counters}
    aggregator.stats.add(counters)
    fields = state.get("call_fields", CALL_FIELDS)
    for name, saved in state.get("workloads", {}).items():
        workload = aggregator.workloads.setdefault(name or DEFAULT_WORKLOAD, Workload(name or DEFAULT_WORKLOAD))
        legacy_buckets = saved.get("s3_buckets", {})  # format 2
        for row in saved.get("calls", []):
            call = dict(zip(fields, row, strict=True))
            if "scopes" not in call:
                call["scopes"] = _legacy_scopes(call, legacy_buckets)
            _restore_call(aggregator, workload, call)
        for denied in saved.get("denied_actions", []):
            origin = ActionOrigin(DENIED_MESSAGE, denied["service"], denied["api"])
            aggregator.learn_denied_action(workload, denied["action"], origin)
        workload.version += 1
        workload.revision += 1
    return counters


_FLAT_CSM_COUNTERS = (
    "datagrams_received",
    "bytes_received",
    "events_parsed",
    "events_rejected",
    "rejected_reasons",
    "api_call_events",
    "api_call_attempt_events",
    "s3_calls_without_bucket",
    "api_calls_before_attempts",
    "api_calls_unjoined",
)


def _legacy_scopes(call: dict[str, Any], buckets: dict[str, list[str]]) -> list[Any]:
    """Format 2 kept the S3 buckets per operation name; "*" stood for a call that named none."""
    if call["service"] != "S3" or call["api"] not in buckets:
        return [[None, None, []]]
    return [[None, None, [] if arn == "*" else [arn]] for arn in buckets[call["api"]]]


def _members_by_scope(saved: list[Any], scopes: list[Scope]) -> list[tuple[Scope, frozenset[str]]]:
    """[[scope index, [member, ...]], ...] back to (scope, members); anything else is skipped."""
    return [
        (scopes[entry[0]], frozenset(str(member) for member in entry[1]))
        for entry in saved
        if isinstance(entry, list)
        and len(entry) == 2
        and isinstance(entry[0], int)
        and 0 <= entry[0] < len(scopes)
        and isinstance(entry[1], list)
    ]


def _restore_call(aggregator: Aggregator, workload: Workload, call: dict[str, Any]) -> None:
    key = (call["service"], call["api"])
    usage = workload.usage.get(key)
    if usage is None:
        usage = workload.usage[key] = usage_of(aggregator.action_map.lookup(*key), *key)
    was_counted = usage.counted(aggregator.fails_only)
    usage.add_counts(int(call["calls"]), int(call["failed"]), int(call["denied"]))
    workload.calls += int(call["calls"])
    for seen in (call.get("first_seen_ms"), call.get("last_seen_ms")):
        if seen is not None:
            usage.seen_at(int(seen))
    scopes = [(region, account, tuple(resources)) for region, account, resources in call.get("scopes") or []]
    for scope in scopes:
        if scope not in usage.scope_set:
            usage.add_scope(scope)
    for scope, members in _members_by_scope(call.get("members") or [], scopes):
        usage.add_members(scope, members)
    if not was_counted and usage.counted(aggregator.fails_only):
        aggregator.learn(workload, usage)
