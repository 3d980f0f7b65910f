"""Incremental per-workload aggregation of CSM events: O(1) per event, state bounded by distinct calls.

Pure: events and datagrams come in, counters and per-workload call usage are kept; the policy is
derived from that usage when it is rendered (see `policy.py`), so a flush costs in the number of
distinct calls, never in the number of events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .events import API_CALL, CsmEvent, parse_datagram
from .mapping import ActionMap, OperationMapping
from .s3 import bucket_arn, bucket_from_fqdn

DEFAULT_WORKLOAD = "default"
ANY_BUCKET = "*"
MAX_PENDING_NOTICES = 1_000
OBSERVED, DEPENDENT, DENIED_MESSAGE = "observed", "dependent", "access-denied-message"


@dataclass(slots=True)
class ApiUsage:
    mapping: OperationMapping
    calls: int = 0
    failed: int = 0
    denied: int = 0
    first_seen_ms: int | None = None
    last_seen_ms: int | None = None


@dataclass(frozen=True, slots=True)
class ActionOrigin:
    """Why an action is in a workload's policy: the kind of evidence and the call that first needed it."""

    kind: str  # OBSERVED, DEPENDENT or DENIED_MESSAGE
    service: str
    api: str

    @property
    def via(self) -> str:
        return f"{self.service}.{self.api}"


@dataclass(frozen=True, slots=True)
class Notice:
    """Something the live view shows: a newly learned action or a call that could not be mapped."""

    workload: str
    service: str
    api: str
    action: str | None
    kind: str


@dataclass(slots=True)
class Workload:
    name: str
    usage: dict[tuple[str, str], ApiUsage] = field(default_factory=dict)
    actions: dict[str, ActionOrigin] = field(default_factory=dict)
    s3_buckets: dict[str, set[str]] = field(default_factory=dict)  # api -> bucket ARNs (or ANY_BUCKET)
    version: int = 0  # bumped whenever the rendered policy may change

    def included(self, usage: ApiUsage, fails_only: bool) -> bool:
        return usage.calls > 0 and (usage.failed > 0 or not fails_only)


@dataclass(slots=True)
class Stats:
    datagrams_received: int = 0
    bytes_received: int = 0
    events_parsed: int = 0
    events_rejected: int = 0
    rejected_reasons: Counter[str] = field(default_factory=Counter)
    api_call_events: int = 0
    api_call_attempt_events: int = 0
    calls_mapped: int = 0
    calls_permissionless: int = 0
    calls_unmapped: int = 0
    calls_failed: int = 0
    calls_denied: int = 0
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    notices_dropped: int = 0

    def as_dict(self) -> dict[str, Any]:
        return {
            "datagrams_received": self.datagrams_received,
            "bytes_received": self.bytes_received,
            "events_parsed": self.events_parsed,
            "events_rejected": self.events_rejected,
            "rejected_reasons": dict(sorted(self.rejected_reasons.items())),
            "api_call_events": self.api_call_events,
            "api_call_attempt_events": self.api_call_attempt_events,
            "calls_mapped": self.calls_mapped,
            "calls_permissionless": self.calls_permissionless,
            "calls_unmapped": self.calls_unmapped,
            "calls_failed": self.calls_failed,
            "calls_denied": self.calls_denied,
            "unmapped_calls": [{"service": s, "api": a, "calls": n} for (s, a), n in sorted(self.unmapped.items())],
        }


class Aggregator:
    """Feeds datagrams or events; keeps per-workload usage, learned actions and counters."""

    def __init__(self, action_map: ActionMap, *, fails_only: bool = False) -> None:
        self.action_map = action_map
        self.fails_only = fails_only
        self.workloads: dict[str, Workload] = {}
        self.stats = Stats()
        self.notices: list[Notice] = []

    def ingest(self, data: bytes, *, keep_records: bool = False) -> list[dict[str, Any]]:
        """One datagram in; returns the validated raw records of its events when asked (for an archive)."""
        stats = self.stats
        stats.datagrams_received += 1
        stats.bytes_received += len(data)
        result = parse_datagram(data, keep_records=keep_records)
        if result.rejected:
            stats.events_rejected += len(result.rejected)
            stats.rejected_reasons.update(result.rejected)
        for event in result.events:
            self.add(event)
        return result.records

    def add(self, event: CsmEvent) -> None:
        self.stats.events_parsed += 1
        workload = self._workload(event.client_id)
        if event.type == API_CALL:
            self._add_call(workload, event)
        else:
            self.stats.api_call_attempt_events += 1
            if event.fqdn and self.action_map.resolve_service(event.service) == "S3":
                self._note_bucket(workload, event)

    def _workload(self, client_id: str) -> Workload:
        name = client_id or DEFAULT_WORKLOAD
        workload = self.workloads.get(name)
        if workload is None:
            workload = self.workloads[name] = Workload(name)
        return workload

    def _add_call(self, workload: Workload, event: CsmEvent) -> None:
        stats = self.stats
        stats.api_call_events += 1
        key = (event.service, event.api)
        usage = workload.usage.get(key)
        if usage is None:
            usage = workload.usage[key] = ApiUsage(self.action_map.lookup(event.service, event.api))
        was_included = workload.included(usage, self.fails_only)
        failed, denied = event.failed, event.denied
        usage.calls += 1
        usage.failed += failed
        usage.denied += denied
        stats.calls_failed += failed
        stats.calls_denied += denied
        seen = event.timestamp_ms
        if seen is not None:
            usage.first_seen_ms = seen if usage.first_seen_ms is None else min(usage.first_seen_ms, seen)
            usage.last_seen_ms = seen if usage.last_seen_ms is None else max(usage.last_seen_ms, seen)
        mapping = usage.mapping
        if not mapping.mapped:
            stats.calls_unmapped += 1
            stats.unmapped[key] += 1
        elif mapping.permissionless:
            stats.calls_permissionless += 1
        else:
            stats.calls_mapped += 1
        if not workload.included(usage, self.fails_only):
            return
        if not was_included:
            self.learn(workload, usage)
        if denied:
            self._learn_from_denial(workload, event)

    def learn(self, workload: Workload, usage: ApiUsage) -> None:
        """Add the actions of a call that now counts towards the policy."""
        mapping = usage.mapping
        workload.version += 1
        if not mapping.mapped:
            self._notify(Notice(workload.name, mapping.service, mapping.api, None, "unmapped"))
        for action in mapping.actions:
            self._record_action(workload, action, ActionOrigin(OBSERVED, mapping.service, mapping.api))
        for action in mapping.dependent:
            self._record_action(workload, action, ActionOrigin(DEPENDENT, mapping.service, mapping.api))

    def _learn_from_denial(self, workload: Workload, event: CsmEvent) -> None:
        for named in event.actions_named_in_denial():
            action = self.action_map.canonical_action(named)
            if action:
                self._record_action(workload, action, ActionOrigin(DENIED_MESSAGE, event.service, event.api))

    def _record_action(self, workload: Workload, action: str, origin: ActionOrigin) -> None:
        known = workload.actions.get(action)
        if known is not None and (known.kind != DEPENDENT or origin.kind == DEPENDENT):
            return
        workload.actions[action] = origin
        workload.version += 1
        if known is None:
            self._notify(Notice(workload.name, origin.service, origin.api, action, origin.kind))

    def _note_bucket(self, workload: Workload, event: CsmEvent) -> None:
        bucket = bucket_from_fqdn(event.fqdn)
        arn = bucket_arn(bucket, event.region) if bucket else ANY_BUCKET
        buckets = workload.s3_buckets.setdefault(event.api, set())
        if arn not in buckets:
            buckets.add(arn)
            workload.version += 1

    def _notify(self, notice: Notice) -> None:
        if len(self.notices) < MAX_PENDING_NOTICES:
            self.notices.append(notice)
        else:
            self.stats.notices_dropped += 1

    def take_notices(self) -> list[Notice]:
        notices, self.notices = self.notices, []
        return notices
