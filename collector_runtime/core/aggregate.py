"""Incremental per-workload aggregation of CSM events: O(1) per event, state bounded by distinct calls.

Pure: events and datagrams come in, counters and per-workload call usage are kept; the policy is
derived from that usage when it is rendered (see `policy.py`), so a flush costs in the number of
distinct calls, never in the number of events.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .events import (
    API_CALL,
    API_CALL_ATTEMPT,
    JSON_ERRORS,
    MAX_DATAGRAM_BYTES,
    Record,
    call_outcome,
    decode,
    denial_actions,
    invalid_reason,
    loads,
)
from .mapping import ActionMap, OperationMapping
from .s3 import bucket_arn, bucket_from_fqdn

DEFAULT_WORKLOAD = "default"
ANY_BUCKET = "*"
MAX_PENDING_NOTICES = 1_000
OBSERVED, DEPENDENT, DENIED_MESSAGE = "observed", "dependent", "access-denied-message"


MAPPED, PERMISSIONLESS, UNMAPPED = 0, 1, 2


def usage_of(mapping: OperationMapping) -> ApiUsage:
    kind = MAPPED if mapping.actions else (PERMISSIONLESS if mapping.mapped else UNMAPPED)
    return ApiUsage(mapping, kind)


@dataclass(slots=True)
class ApiUsage:
    mapping: OperationMapping
    kind: int = 0  # MAPPED, PERMISSIONLESS or UNMAPPED, decided once from the mapping
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
    has_denials: bool = False  # an action came from an AccessDenied message (saves scanning at snapshots)
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

    def add(self, saved: dict[str, Any]) -> None:
        """Add counters saved by `as_dict` (a restart continues the totals)."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + int(saved.get(name, 0)))
        self.rejected_reasons.update({str(k): int(v) for k, v in saved.get("rejected_reasons", {}).items()})
        for item in saved.get("unmapped_calls", []):
            self.unmapped[(str(item["service"]), str(item["api"]))] += int(item["calls"])


_COUNTERS = (
    "datagrams_received",
    "bytes_received",
    "events_parsed",
    "events_rejected",
    "api_call_events",
    "api_call_attempt_events",
    "calls_mapped",
    "calls_permissionless",
    "calls_unmapped",
    "calls_failed",
    "calls_denied",
)


@dataclass(frozen=True, slots=True)
class Limits:
    """Bounds on what senders can make the collector remember; what is over them is dropped and counted."""

    max_workloads: int = 10_000
    max_calls_per_workload: int = 5_000
    max_cached_identities: int = 200_000  # caches only: cleared when full, never dropping data


class Aggregator:
    """Feeds datagrams; keeps per-workload usage, learned actions and counters.

    The hot path (`ingest` -> `add_record`) caches each validated (ClientId, Service, Api) with its
    workload and usage, so a repeated call costs a JSON decode and a few dictionary operations.
    """

    def __init__(self, action_map: ActionMap, *, fails_only: bool = False, limits: Limits = Limits()) -> None:
        self.action_map = action_map
        self.fails_only = fails_only
        self.limits = limits
        self.workloads: dict[str, Workload] = {}
        self.stats = Stats()
        self.notices: list[Notice] = []
        self._calls: dict[tuple[str, str, str], tuple[Workload, ApiUsage]] = {}
        self._attempts: dict[tuple[str, str, str], tuple[Workload, bool]] = {}  # (workload, is S3)
        self._fqdns_seen: set[tuple[str, str, str, Any]] = set()

    def ingest(self, data: bytes, *, keep_records: bool = False) -> list[Record]:
        """One datagram in; returns its accepted raw records when asked (for an archive)."""
        stats = self.stats
        stats.datagrams_received += 1
        stats.bytes_received += len(data)
        if b"\n" not in data and 0 < len(data) <= MAX_DATAGRAM_BYTES:  # the common case: one event
            try:
                record = loads(data)
            except JSON_ERRORS:
                self._reject("not_json")
                return []
            if type(record) is not dict:
                self._reject("not_an_object")
                return []
            return [record] if self.add_record(record) and keep_records else []
        records, rejected = decode(data)
        for reason in rejected:
            self._reject(reason)
        accepted = [r for r in records if self.add_record(r)]
        return accepted if keep_records else []

    def _reject(self, reason: str) -> None:
        self.stats.events_rejected += 1
        self.stats.rejected_reasons[reason] += 1

    def add_record(self, record: Record) -> bool:
        """Count one decoded event; returns whether it was a valid CSM event.

        Hot path: an identity seen before is one dictionary lookup; anything unusual (a new identity,
        a missing or unhashable field) takes the slow path, which validates.
        """
        kind = record.get("Type")
        try:
            key = (record.get("ClientId", ""), record["Service"], record["Api"])
            if kind == API_CALL:
                self._add_call(self._calls[key], record)
            elif kind == API_CALL_ATTEMPT:
                self._add_attempt(self._attempts[key], record)
            else:
                self._reject("invalid_fields")
                return False
        except (KeyError, TypeError):
            return self._add_new(kind, record)
        self.stats.events_parsed += 1
        return True

    def _add_new(self, kind: Any, record: Record) -> bool:
        """The slow path: validate, then remember the identity and count the event."""
        if self._rejected(record):
            return False
        key = (record.get("ClientId", ""), record["Service"], record["Api"])
        if kind == API_CALL:
            slot = self._call_slot(key)
            if slot is None:
                return False
            self._add_call(slot, record)
        else:
            attempt = self._attempt_slot(key)
            if attempt is None:
                return False
            self._add_attempt(attempt, record)
        self.stats.events_parsed += 1
        return True

    def _call_slot(self, key: tuple[str, str, str]) -> tuple[Workload, ApiUsage] | None:
        client_id, service, api = key
        workload = self._workload(client_id)
        if workload is None:
            return None
        usage = workload.usage.get((service, api))
        if usage is None:
            if len(workload.usage) >= self.limits.max_calls_per_workload:
                self._reject("call_limit")
                return None
            usage = workload.usage[(service, api)] = usage_of(self.action_map.lookup(service, api))
        slot = self._calls[key] = (workload, usage)
        return slot

    def _attempt_slot(self, key: tuple[str, str, str]) -> tuple[Workload, bool] | None:
        workload = self._workload(key[0])
        if workload is None:
            return None
        if len(self._attempts) >= self.limits.max_cached_identities:
            self._attempts.clear()  # a cache: senders inventing operation names cannot grow it without bound
        slot = self._attempts[key] = (workload, self.action_map.resolve_service(key[1]) == "S3")
        return slot

    def _rejected(self, record: Record) -> bool:
        reason = invalid_reason(record)
        if reason:
            self._reject(reason)
        return reason is not None

    def _workload(self, client_id: str) -> Workload | None:
        name = client_id or DEFAULT_WORKLOAD
        workload = self.workloads.get(name)
        if workload is None:
            if len(self.workloads) >= self.limits.max_workloads:
                self._reject("workload_limit")
                return None
            workload = self.workloads[name] = Workload(name)
        return workload

    def _add_call(self, slot: tuple[Workload, ApiUsage], record: Record) -> None:
        workload, usage = slot
        stats = self.stats
        stats.api_call_events += 1
        get = record.get
        status = get("FinalHttpStatusCode")
        if (
            get("FinalAwsException") is None
            and get("FinalSdkException") is None
            and not (type(status) is int and status >= 400)
        ):
            failed = denied = False  # the common case, decided without call_outcome's full checks
        else:
            failed, denied = call_outcome(record)
        first_call = usage.calls == 0
        usage.calls += 1
        if failed:
            usage.failed += 1
            stats.calls_failed += 1
        if denied:
            usage.denied += 1
            stats.calls_denied += 1
        seen = get("Timestamp")
        if type(seen) is int:
            if usage.first_seen_ms is None or seen < usage.first_seen_ms:
                usage.first_seen_ms = seen
            if usage.last_seen_ms is None or seen > usage.last_seen_ms:
                usage.last_seen_ms = seen
        kind = usage.kind
        if kind == MAPPED:
            stats.calls_mapped += 1
        elif kind == PERMISSIONLESS:
            stats.calls_permissionless += 1
        else:
            stats.calls_unmapped += 1
            stats.unmapped[(usage.mapping.service, usage.mapping.api)] += 1
        # A call counts towards the policy from its first call, or with --fails-only its first failure.
        if (first_call and not self.fails_only) or (failed and usage.failed == 1 and self.fails_only):
            self.learn(workload, usage)
        if denied:  # a denied call is a failed one: it always counts towards the policy
            self._learn_from_denial(workload, usage.mapping, record)

    def _add_attempt(self, slot: tuple[Workload, bool], record: Record) -> None:
        self.stats.api_call_attempt_events += 1
        workload, is_s3 = slot
        if not is_s3:
            return
        api, fqdn = record["Api"], record.get("Fqdn")
        if not isinstance(fqdn, str):
            return
        seen_key = (workload.name, api, fqdn, record.get("Region"))
        try:
            if seen_key in self._fqdns_seen:
                return
        except TypeError:  # an unhashable Region
            return
        if len(self._fqdns_seen) >= self.limits.max_cached_identities:
            self._fqdns_seen.clear()  # only a dedupe cache
        self._fqdns_seen.add(seen_key)
        region = record.get("Region")
        bucket = bucket_from_fqdn(fqdn[:300])
        arn = bucket_arn(bucket, region if isinstance(region, str) else None) if bucket else ANY_BUCKET
        buckets = workload.s3_buckets.setdefault(api, set())
        if arn not in buckets:
            buckets.add(arn)
            workload.version += 1

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

    def _learn_from_denial(self, workload: Workload, mapping: OperationMapping, record: Record) -> None:
        for named in denial_actions(record):
            action = self.action_map.canonical_action(named)
            if action:
                self._record_action(workload, action, ActionOrigin(DENIED_MESSAGE, mapping.service, mapping.api))

    def _record_action(self, workload: Workload, action: str, origin: ActionOrigin) -> None:
        known = workload.actions.get(action)
        if known is not None and (known.kind != DEPENDENT or origin.kind == DEPENDENT):
            return
        workload.actions[action] = origin
        workload.version += 1
        workload.has_denials = workload.has_denials or origin.kind == DENIED_MESSAGE
        if known is None:
            self._notify(Notice(workload.name, origin.service, origin.api, action, origin.kind))

    def _notify(self, notice: Notice) -> None:
        if len(self.notices) < MAX_PENDING_NOTICES:
            self.notices.append(notice)
        else:
            self.stats.notices_dropped += 1

    def take_notices(self) -> list[Notice]:
        notices, self.notices = self.notices, []
        return notices
