"""CSM datagrams in, observed calls out: the Client-Side Monitoring source. Pure (no socket, no clock).

A datagram is untrusted bytes from the network: anything that is not a well-formed CSM event is
counted with a reason and dropped, never raised. Each `ApiCall` event becomes one `ObservedCall`;
`ApiCallAttempt` events (one per HTTP attempt) carry what the call lacks — the access key (hence
the caller's account) and the host (hence an S3 bucket) — and are paired with the call that follows
them. Some SDKs send the call first: once a client shows that order (an attempt made while its
previous call ran), its calls wait for their attempts (`join.py`); the call that showed it keeps
the account its identity showed before (the core's one account per caller fills it) but not its
bucket. Secrets never leave this module: a record is built from an allow-list of fields, and the
access key id is reduced to its account at once (`AccessKey` and `SessionToken` are never stored).
"""

from __future__ import annotations

import sys
from collections import deque
from collections.abc import Sequence

from ...core.records import CSM, DEFAULT_WORKLOAD, OK, ObservedCall
from .attempt_facts import MAX_CACHED, NO_DENIALS, NO_RESOURCES, AttemptFacts, failure
from .events import API_CALL, API_CALL_ATTEMPT, INT64_MAX, INT64_MIN, CsmCounters, invalid_reason
from .fields import CsmEvent, NotAnObject, NotJson, decode_batch, decode_event
from .join import (
    MAX_HOLD_SECONDS,
    HeldCall,
    HeldCalls,
    Pending,
    paired_facts,
    span,
    within,
)

MAX_DATAGRAM_BYTES = 65_535
MAX_PENDING_ATTEMPTS = 64  # per identity: attempts waiting for their ApiCall
Identity = tuple[str, str, str]  # (ClientId, Service, Api) as sent
__all__ = ["MAX_DATAGRAM_BYTES", "MAX_HOLD_SECONDS", "CsmDecoder"]
NO_MEMBERS: frozenset[str] = frozenset()
_ANY_BUCKET = ":s3:::*"
# ObservedCall(...) runs NamedTuple's Python-level __new__; building the tuple directly gives the same
# record in half the time, which matters at one record per call on the intake path.
_new_record = tuple.__new__


def _interned(name: str) -> str:
    return sys.intern(name) if type(name) is str else name  # a str subclass cannot be interned (none from JSON)


class CsmDecoder:
    """Turns CSM datagrams into observed calls, counting what it drops."""

    def __init__(self, *, source: str = CSM, max_cached_identities: int = 200_000) -> None:
        self.source = source
        self.counters = CsmCounters()
        self.max_cached_identities = max_cached_identities
        self._identities: dict[Identity, str] = {}  # identity -> workload name
        self._pending: dict[Identity, Pending] = {}
        self._facts = AttemptFacts()
        self._accounts = self._facts.accounts  # its cache, read inline on the hot path
        self._held = HeldCalls()
        self._held_by = self._held.by_identity  # truthy while any call is held (a cheap test per event)
        self._calls_first: set[str] = set()  # ClientIds seen sending an ApiCall before its attempts

    def feed(self, data: bytes) -> list[ObservedCall]:
        """One datagram in; its calls out (an attempt alone yields none)."""
        return self.feed_batch([data])

    def feed_batch(self, datagrams: Sequence[bytes | memoryview]) -> list[ObservedCall]:
        """Datagrams in, in arrival order; their calls out. The hot path: one call decodes the whole batch; a
        batch with any datagram that is not exactly one JSON object is decoded one by one (counted by reason)."""
        if not datagrams:
            return []
        counters = self.counters
        counters.datagrams_received += len(datagrams)
        counters.bytes_received += sum(map(len, datagrams))
        events = decode_batch(datagrams) if max(map(len, datagrams)) <= MAX_DATAGRAM_BYTES else None
        if events is None:  # some datagram is not one JSON object: lines, empty, not JSON, not an object
            return self.events([event for data in datagrams for event in self._one_by_one(data)])
        return self.events(events)

    def _one_by_one(self, datagram: bytes | memoryview) -> list[CsmEvent]:
        """A datagram's events (several, one per line, as some SDKs batch them); what is not one is counted."""
        data = bytes(datagram)
        if len(data) > MAX_DATAGRAM_BYTES:
            self.counters.reject("oversized")
            return []
        lines = [line for line in data.split(b"\n") if line.strip()] if b"\n" in data else [data] if data else []
        if not lines:
            self.counters.reject("empty")
            return []
        return [event for event in map(self._decode, lines) if event is not None]

    def _decode(self, data: bytes) -> CsmEvent | None:
        try:
            return decode_event(data)
        except NotAnObject:
            self.counters.reject("not_an_object")
        except NotJson:
            self.counters.reject("not_json")
        return None

    def events(self, events: list[CsmEvent]) -> list[ObservedCall]:
        """Decoded events in, in order; the calls they complete out (a rejected event is counted).

        The hot path caches each validated identity (ClientId, Service, Api): a known one costs a few
        dictionary operations; a new or malformed one is validated first (`_new_identity`)."""
        identities = self._identities
        calls: list[ObservedCall] = []
        api_calls = attempts = 0
        for event in events:
            identity = (event.ClientId, event.Service, event.Api)
            try:
                workload = identities[identity]
            except (KeyError, TypeError):  # new, or a field unhashable (a list): validate
                new = self._new_identity(event)
                if new is None:
                    continue
                identity, workload = new
            kind = event.Type
            if kind == API_CALL:
                api_calls += 1
                self._call(identity, workload, event, calls)
            elif kind == API_CALL_ATTEMPT:
                attempts += 1
                self._attempt(identity, event, calls)
            else:
                self.counters.reject("invalid_fields")
        counters = self.counters
        counters.events_parsed += api_calls + attempts
        counters.api_call_events += api_calls
        counters.api_call_attempt_events += attempts
        return calls

    def _new_identity(self, event: CsmEvent) -> tuple[Identity, str] | None:
        """A well-formed event's new identity and its workload (remembered), or None (the event is counted).

        The identity is kept (here, in `_pending`, in every call's record, in the aggregator's keys) as one
        tuple of interned names: each of a thousand workloads' handful of operations would otherwise hold its
        own copies of the same service, operation and ClientId strings, as the datagram that introduced it."""
        reason = invalid_reason(event)
        if reason:
            self.counters.reject(reason)
            return None
        if len(self._identities) >= self.max_cached_identities:
            self._identities.clear()  # caches: senders inventing names cannot grow them without bound
            self._pending.clear()
        identity = (_interned(event.ClientId), _interned(event.Service), _interned(event.Api))
        workload = self._identities[identity] = identity[0] or DEFAULT_WORKLOAD
        return identity, workload

    def _call(self, identity: Identity, workload: str, event: CsmEvent, calls: list[ObservedCall]) -> None:
        """The call `event` completes (and held calls of its identity whose attempts were lost), into `calls`."""
        if self._held_by:
            calls += [self._unjoined(held) for held in self._held.of(identity)]
        pending = self._pending.get(identity)
        if pending is None or not pending.unpaired:  # its attempts are still to come, or were lost
            if identity[0] in self._calls_first:
                self._hold(identity, self._record(identity, workload, event, None, NO_RESOURCES), event, calls)
            else:
                calls.append(self._bare(identity, workload, event, pending))
            return
        pending.absorb = 0
        pending.bare = None
        if pending.buckets is None:  # the common case: not S3 (the attempts waiting are this call's)
            pending.unpaired = 0
            calls.append(self._record(identity, workload, event, pending.account, NO_RESOURCES))
            return
        account, resources = paired_facts(pending, event.AttemptCount)
        self._count_unscoped(resources)
        calls.append(self._record(identity, workload, event, account, resources))

    def _record(
        self, identity: Identity, workload: str, event: CsmEvent, account: str | None, resources: tuple[str, ...]
    ) -> ObservedCall:
        status = event.FinalHttpStatusCode
        if (
            event.FinalAwsException is None
            and event.FinalSdkException is None
            and not (type(status) is int and status >= 400)
        ):
            outcome, error_code, denied = OK, None, NO_DENIALS  # the common case, decided without the full checks
        else:
            outcome, error_code, denied, named = failure(event)
            resources = tuple(dict.fromkeys(resources + named)) if named else resources
        region = event.Region
        time_ms = event.Timestamp
        fields = (
            workload,
            self.source,
            identity[1],
            identity[2],
            region[:32] if type(region) is str and region else None,
            account,
            outcome,
            error_code,
            denied,
            resources,
            NO_MEMBERS,
            time_ms if type(time_ms) is int and INT64_MIN <= time_ms <= INT64_MAX else None,  # `integer`, inline
        )
        return _new_record(ObservedCall, fields)

    def _bare(self, identity: Identity, workload: str, event: CsmEvent, pending: Pending | None) -> ObservedCall:
        """A call no attempt came before, from a client not known to send calls first: at once, with the
        last account its identity showed; its span is kept to learn the order if its attempts follow."""
        self.counters.api_calls_unjoined += 1
        if pending is None:
            pending = self._pending[identity] = Pending()
        pending.absorb = 0
        pending.bare = span(event)
        return self._record(identity, workload, event, pending.account, NO_RESOURCES)

    def _hold(self, identity: Identity, call: ObservedCall, event: CsmEvent, calls: list[ObservedCall]) -> None:
        """Hold a call whose attempts have not come; the calls a full buffer pushes out, into `calls`."""
        self.counters.api_calls_before_attempts += 1
        held = HeldCall(call, identity, *span(event))
        calls += [self._unjoined(pushed) for pushed in self._held.hold(held)]

    def release_held(self, now: float | None) -> list[ObservedCall]:
        """The held calls whose attempts did not come within `MAX_HOLD_SECONDS` of `now` (a monotonic
        clock the caller reads; None at the end of input: every held call)."""
        return [self._unjoined(held) for held in self._held.aged(now)]

    def _unjoined(self, held: HeldCall) -> ObservedCall:
        """A held call without its attempts: the last account its identity showed, no bucket."""
        self.counters.api_calls_unjoined += 1
        pending = self._pending.get(held.identity)
        return held.call._replace(account=pending.account) if pending is not None else held.call

    def _joined(self, held: HeldCall, account: str | None, resources: tuple[str, ...]) -> ObservedCall:
        """A held call with the facts of its (first) attempt, as if the attempt had come first."""
        self._count_unscoped(resources)
        named = held.call.resources
        return held.call._replace(
            account=account, resources=tuple(dict.fromkeys(resources + named)) if named else resources
        )

    def _count_unscoped(self, resources: tuple[str, ...]) -> None:
        if resources and resources[0].endswith(_ANY_BUCKET):
            self.counters.s3_calls_without_bucket += 1

    def _attempt(self, identity: Identity, event: CsmEvent, calls: list[ObservedCall]) -> None:
        """Remember an attempt's facts for its call; a held call it belongs to, joined, into `calls`."""
        pending = self._pending.get(identity)
        if pending is None:
            pending = self._pending[identity] = Pending()
        try:
            account = self._accounts[event.AccessKey]
        except (KeyError, TypeError):
            account = self._facts.account(event.AccessKey)
        pending.account = account
        s3 = identity[1] == "S3"
        bucket = self._facts.bucket(event.Fqdn, event.Region) if s3 else NO_RESOURCES
        if pending.absorb:  # a retry of a call already joined
            pending.absorb -= 1
            return
        if self._held_by:
            held = self._held.joined_by(identity, event.Timestamp)
            if held is not None:
                pending.absorb = min(held.attempts - 1, MAX_PENDING_ATTEMPTS)
                calls.append(self._joined(held, account, bucket))
                return
        bare = pending.bare
        if bare is not None and within(bare[0], bare[1], event.Timestamp):
            self._learn_calls_first(identity[0])  # an attempt of the call just emitted: calls come first
            pending.bare = None
            pending.absorb = min(bare[2] - 1, MAX_PENDING_ATTEMPTS)
            return
        if pending.unpaired < MAX_PENDING_ATTEMPTS:
            pending.unpaired += 1
        if s3:
            if pending.buckets is None:
                pending.buckets = deque(maxlen=MAX_PENDING_ATTEMPTS)
            pending.buckets.append(bucket)

    def _learn_calls_first(self, client_id: str) -> None:
        if len(self._calls_first) >= MAX_CACHED:
            self._calls_first.clear()
        self._calls_first.add(client_id)
