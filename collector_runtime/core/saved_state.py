"""A state.json snapshot read and checked before any of it is merged: a restart restores it all or nothing. Pure.

A workload that is not well formed (a call row that is not one) makes the snapshot unreadable: ValueError,
raised before anything is merged, so the caller sets the file aside and starts empty. A top-level counter
that is not a count is left out and named in `left_out`: the calls matter more than a counter. A scope whose
region no region could have (`*`, which a collector before the check saved from a datagram) is left out, and so
is a call left with no scope: restored, either would grant more than was observed (no scope: every resource).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .arns import is_region_name
from .saved_counts import MAX_REASONS, is_plain_name, parsed_count, saved_reasons
from .usage import CALL_COUNTERS, CALL_FIELDS, Scope

READABLE_FORMATS = (2, 3)  # format 2: before scopes (S3 buckets per operation instead)


@dataclass(frozen=True, slots=True)
class SavedCall:
    service: str
    api: str
    calls: int
    failed: int
    denied: int
    seen_ms: tuple[int, ...]  # first and last seen, when saved
    scopes: list[Scope]
    members: list[tuple[Scope, frozenset[str]]]
    scopes_left_out: int = 0  # saved scopes whose region no region could have


@dataclass(frozen=True, slots=True)
class SavedWorkload:
    name: str
    calls: list[SavedCall]
    denied_actions: list[tuple[str, str, str]]  # (action, service, api) an AccessDenied message named


@dataclass(frozen=True, slots=True)
class SavedState:
    workloads: list[SavedWorkload]
    call_stats: dict[str, Any]  # CallStats.as_dict's counters, each one checked
    internal_errors: int
    counters: dict[str, Any]  # every saved counter as saved (each source checks its own section)
    left_out: list[str]  # the top-level counters that were not counts
    scopes_left_out: int = 0  # saved scopes whose region no region could have (`*`)
    calls_left_out: int = 0  # saved calls left with no scope (they would be granted on every resource)


def parse_state(state: Any) -> SavedState:
    """The snapshot checked; ValueError if it cannot be restored. Unknown fields are ignored."""
    if not isinstance(state, dict) or state.get("format") not in READABLE_FORMATS:
        raise ValueError(f"unsupported state format {state.get('format') if isinstance(state, dict) else None!r}")
    saved_stats = state.get("stats", {})
    left_out = [] if isinstance(saved_stats, dict) else ["stats"]
    counters: dict[str, Any] = dict(saved_stats) if isinstance(saved_stats, dict) else {}
    counters.setdefault("calls", counters.get("api_call_events", 0))  # format 2 counted calls as ApiCall events
    if "csm" not in counters and "datagrams_received" in counters:  # before sections: CSM's counters at the top
        counters["csm"] = {key: counters[key] for key in _FLAT_CSM_COUNTERS if key in counters}
    call_stats = _call_stats(counters, left_out)
    internal_errors = _count(counters, "internal_errors", left_out)
    fields = state.get("call_fields", CALL_FIELDS)
    workloads = state.get("workloads", {})
    if not isinstance(workloads, dict):
        raise ValueError("the workloads are not an object")
    parsed = [_workload(name, saved, fields) for name, saved in workloads.items()]
    calls = [call for workload in parsed for call in workload.calls]
    restored = [SavedWorkload(w.name, [c for c in w.calls if c.scopes], w.denied_actions) for w in parsed]
    return SavedState(
        restored,
        call_stats,
        internal_errors,
        counters,
        left_out,
        sum(call.scopes_left_out for call in calls),
        sum(not call.scopes for call in calls),
    )


def _count(counters: dict[str, Any], name: str, left_out: list[str]) -> int:
    count = parsed_count(counters.get(name, 0))
    if count is None:
        left_out.append(name)
    return count or 0


def _call_stats(counters: dict[str, Any], left_out: list[str]) -> dict[str, Any]:
    stats: dict[str, Any] = {name: _count(counters, name, left_out) for name in CALL_COUNTERS}
    dropped = counters.get("calls_dropped") or {}
    stats["calls_dropped"] = saved_reasons(dropped)  # by limit: a handful of plain names
    if not isinstance(dropped, dict) or len(dropped) > MAX_REASONS or not all(map(_is_reason, dropped.items())):
        left_out.append("calls_dropped")
    unmapped = counters.get("unmapped_calls") or []
    entries = unmapped if isinstance(unmapped, list) else []
    stats["unmapped_calls"] = [entry for entry in entries if _is_unmapped_entry(entry)]
    if len(stats["unmapped_calls"]) < len(entries) or not isinstance(unmapped, list):
        left_out.append("unmapped_calls")
    return stats


def _is_reason(entry: tuple[Any, Any]) -> bool:
    return is_plain_name(entry[0]) and parsed_count(entry[1]) is not None


def _is_unmapped_entry(entry: Any) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("service"), str)
        and isinstance(entry.get("api"), str)
        and parsed_count(entry.get("calls")) is not None
    )


def _workload(name: str, saved: Any, fields: Any) -> SavedWorkload:
    try:
        legacy_buckets = saved.get("s3_buckets", {})  # format 2
        calls = [_call(dict(zip(fields, row, strict=True)), legacy_buckets) for row in saved.get("calls", [])]
        denied = [(_text(d["action"]), _text(d["service"]), _text(d["api"])) for d in saved.get("denied_actions", [])]
    except (KeyError, TypeError, AttributeError, ValueError) as error:
        raise ValueError(f"workload {name[:64]!r} is malformed ({type(error).__name__}: {error})") from error
    return SavedWorkload(name, calls, denied)


def _call(call: dict[str, Any], legacy_buckets: Any) -> SavedCall:
    saved = [_scope(scope) for scope in (call["scopes"] if "scopes" in call else _legacy_scopes(call, legacy_buckets))]
    scopes = [scope for scope in saved if scope[0] is None or is_region_name(scope[0])]
    members = _members_by_scope(call.get("members") or [], saved)
    if len(scopes) < len(saved):
        kept = set(scopes)
        members = [(scope, names) for scope, names in members if scope in kept]
    seen = (call.get("first_seen_ms"), call.get("last_seen_ms"))
    return SavedCall(
        _text(call["service"]),
        _text(call["api"]),
        _row_count(call["calls"]),
        _row_count(call["failed"]),
        _row_count(call["denied"]),
        tuple(_row_count(time_ms) for time_ms in seen if time_ms is not None),
        scopes,
        members,
        len(saved) - len(scopes),
    )


def _text(value: Any) -> str:
    if not isinstance(value, str):
        raise ValueError(f"{type(value).__name__} where a name belongs")
    return value


def _row_count(value: Any) -> int:
    count = parsed_count(value)
    if count is None:
        raise ValueError(f"{str(value)[:32]!r} where a count belongs")
    return count


def _scope(saved: Any) -> Scope:
    if not isinstance(saved, list) or len(saved) != 3 or not isinstance(saved[2], list):
        raise ValueError("a scope is not [region, account, [resource, ...]]")
    region, account, resources = saved
    if not all(part is None or isinstance(part, str) for part in (region, account)):
        raise ValueError("a scope's region or account is not a name")
    return region, account, tuple(_text(resource) for resource in resources)


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


def _legacy_scopes(call: dict[str, Any], buckets: Any) -> list[Any]:
    """Format 2 kept the S3 buckets per operation name; "*" stood for a call that named none."""
    if call["service"] != "S3" or call["api"] not in buckets:
        return [[None, None, []]]
    return [[None, None, [] if arn == "*" else [arn]] for arn in buckets[call["api"]]]


def _members_by_scope(saved: Any, scopes: list[Scope]) -> list[tuple[Scope, frozenset[str]]]:
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
