"""Snapshot and restore the aggregator's state as plain JSON data (used for restarts and `explain`).

The snapshot holds call usage, not actions: restoring re-maps every call with the current mapping
data, so an upgraded mapping improves policies learned before the upgrade.
"""

from __future__ import annotations

from typing import Any

from .aggregate import DENIED_MESSAGE, ActionOrigin, Aggregator, Workload, usage_of

STATE_FORMAT = 2
CALL_FIELDS = ("service", "api", "calls", "failed", "denied", "first_seen_ms", "last_seen_ms")


def snapshot(aggregator: Aggregator) -> dict[str, Any]:
    return {
        "format": STATE_FORMAT,
        "mapping_inputs": aggregator.action_map.inputs,
        "call_fields": CALL_FIELDS,
        "stats": aggregator.stats.as_dict(),
        "workloads": {name: _workload_state(w) for name, w in sorted(aggregator.workloads.items())},
    }


def _workload_state(workload: Workload) -> dict[str, Any]:
    return {
        "calls": [  # rows in CALL_FIELDS order: a compact file, fast to write at every flush
            (service, api, u.calls, u.failed, u.denied, u.first_seen_ms, u.last_seen_ms)
            for (service, api), u in workload.usage.items()
        ],
        "denied_actions": [
            {"action": action, "service": o.service, "api": o.api}
            for action, o in workload.actions.items()
            if o.kind == DENIED_MESSAGE
        ]
        if workload.has_denials
        else [],
        "s3_buckets": {api: sorted(arns) for api, arns in sorted(workload.s3_buckets.items())},
    }


def restore(aggregator: Aggregator, state: dict[str, Any]) -> None:
    """Merge a snapshot into `aggregator` (normally a fresh one); unknown fields are ignored."""
    if state.get("format") != STATE_FORMAT:
        raise ValueError(f"unsupported state format {state.get('format')!r}")
    aggregator.stats.add(state.get("stats", {}))
    for name, saved in state.get("workloads", {}).items():
        workload = aggregator.workloads.setdefault(name, Workload(name))  # a snapshot is trusted: no limits
        for api, arns in saved.get("s3_buckets", {}).items():
            workload.s3_buckets.setdefault(api, set()).update(arns)
        for row in saved.get("calls", []):
            _restore_call(aggregator, workload, dict(zip(CALL_FIELDS, row, strict=True)))
        for denied in saved.get("denied_actions", []):
            origin = ActionOrigin(DENIED_MESSAGE, denied["service"], denied["api"])
            workload.actions.setdefault(denied["action"], origin)
            workload.has_denials = True
        workload.version += 1


def _restore_call(aggregator: Aggregator, workload: Workload, call: dict[str, Any]) -> None:
    key = (call["service"], call["api"])
    usage = workload.usage.get(key)
    if usage is None:
        usage = workload.usage[key] = usage_of(aggregator.action_map.lookup(*key))
    was_included = workload.included(usage, aggregator.fails_only)
    usage.calls += int(call["calls"])
    usage.failed += int(call["failed"])
    usage.denied += int(call["denied"])
    for field, pick in (("first_seen_ms", min), ("last_seen_ms", max)):
        saved = call.get(field)
        if saved is not None:
            current = getattr(usage, field)
            setattr(usage, field, saved if current is None else pick(current, saved))
    if not was_included and workload.included(usage, aggregator.fails_only):
        aggregator.learn(workload, usage)
