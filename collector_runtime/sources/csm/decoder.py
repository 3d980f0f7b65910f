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

from ...core.arns import is_region_name
from ...core.records import CSM, DEFAULT_WORKLOAD, OK, ObservedCall
from .attempt_facts import MAX_CACHED, NO_DENIALS, NO_RESOURCES, AttemptFacts, failure
from .events import API_CALL, API_CALL_ATTEMPT, INT64_MAX, INT64_MIN, CsmCounters, invalid_reason
from .fields import CsmEvent, NotAnObject, NotJson, decode_batch, decode_event
from .join import (
    MAX_HOLD_SECONDS,
    Caller,
    HeldCall,
    HeldCalls,
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
        self._callers: dict[Identity, Caller] = {}  # what is known of each identity
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

        The hot path: one dictionary lookup finds what is known of an event's identity (ClientId, Service,
        Api); a new or malformed one is validated first (`_new_caller`). The common cases (an attempt of a
        call not yet sent, then that call; no S3 bucket, no call held) are handled inline, the rest by
        `_attempt` and `_call`."""
        callers, held_by, accounts = self._callers, self._held_by, self._accounts
        calls: list[ObservedCall] = []
        api_calls = attempts = 0
        for event in events:
            try:
                caller = callers[(event.ClientId, event.Service, event.Api)]
            except (KeyError, TypeError):  # new, or a field unhashable (a list): validate
                new = self._new_caller(event)
                if new is None:
                    continue
                caller = new
            kind = event.Type
            if kind == API_CALL:
                if event.Region != caller.region and not self._region_checked(caller, event):
                    continue
                api_calls += 1
                if caller.unpaired and caller.buckets is None and not held_by:  # its attempts came first
                    caller.unpaired = caller.absorb = 0
                    caller.bare = None
                    calls.append(self._record(caller, event, caller.account, NO_RESOURCES))
                else:
                    self._call(caller, event, calls)
            elif kind == API_CALL_ATTEMPT:
                attempts += 1
                if caller.s3 or caller.absorb or caller.bare is not None or held_by:
                    self._attempt(caller, event, calls)
                    continue
                try:  # an attempt before its call: its account noted for the call
                    caller.account = accounts[event.AccessKey]
                except (KeyError, TypeError):
                    caller.account = self._facts.account(event.AccessKey)
                if caller.unpaired < MAX_PENDING_ATTEMPTS:
                    caller.unpaired += 1
            else:
                self.counters.reject("invalid_fields")
        counters = self.counters
        counters.events_parsed += api_calls + attempts
        counters.api_call_events += api_calls
        counters.api_call_attempt_events += attempts
        return calls

    def _region_checked(self, caller: Caller, event: CsmEvent) -> bool:
        """Whether a call's region, other than its identity's last, is a name a region could have (or absent);
        if not, the call is counted and dropped with the attempts it made (later calls pair with their own)."""
        region = event.Region
        if region is None or is_region_name(region):
            caller.region = region
            return True
        self.counters.reject("invalid_region")
        paired_facts(caller, event.AttemptCount)
        return False

    def _new_caller(self, event: CsmEvent) -> Caller | None:
        """A well-formed event's new identity, known from now on, or None (the event is counted).

        The identity is kept (here, in every call's record, in the aggregator's keys) as one tuple of interned
        names: each of a thousand workloads' handful of operations would otherwise hold its own copies of the
        same service, operation and ClientId strings, as the datagram that introduced it."""
        reason = invalid_reason(event)
        if reason:
            self.counters.reject(reason)
            return None
        if len(self._callers) >= self.max_cached_identities:
            self._callers.clear()  # senders inventing names cannot grow it without bound
        identity = (_interned(event.ClientId), _interned(event.Service), _interned(event.Api))
        caller = self._callers[identity] = Caller(identity, identity[0] or DEFAULT_WORKLOAD, identity[1] == "S3")
        return caller

    def _call(self, caller: Caller, event: CsmEvent, calls: list[ObservedCall]) -> None:
        """The call `event` completes (and held calls of its identity whose attempts were lost), into `calls`."""
        identity = caller.identity
        if self._held_by:
            calls += [self._unjoined(held) for held in self._held.of(identity)]
        if not caller.unpaired:  # its attempts are still to come, or were lost
            if identity[0] in self._calls_first:
                self._hold(caller, self._record(caller, event, None, NO_RESOURCES), event, calls)
            else:
                calls.append(self._bare(caller, event))
            return
        caller.absorb = 0
        caller.bare = None
        if caller.buckets is None:  # not S3 (the attempts waiting are this call's)
            caller.unpaired = 0
            calls.append(self._record(caller, event, caller.account, NO_RESOURCES))
            return
        account, resources = paired_facts(caller, event.AttemptCount)
        self._count_unscoped(resources)
        calls.append(self._record(caller, event, account, resources))

    def _record(self, caller: Caller, event: CsmEvent, account: str | None, resources: tuple[str, ...]) -> ObservedCall:
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
        identity = caller.identity
        fields = (
            caller.workload,
            self.source,
            identity[1],
            identity[2],
            region,  # checked when the call came (`_region_checked`)
            account,
            outcome,
            error_code,
            denied,
            resources,
            NO_MEMBERS,
            time_ms if type(time_ms) is int and INT64_MIN <= time_ms <= INT64_MAX else None,  # `integer`, inline
        )
        return _new_record(ObservedCall, fields)

    def _bare(self, caller: Caller, event: CsmEvent) -> ObservedCall:
        """A call no attempt came before, from a client not known to send calls first: at once, with the
        last account its identity showed; its span is kept to learn the order if its attempts follow."""
        self.counters.api_calls_unjoined += 1
        caller.absorb = 0
        caller.bare = span(event)
        return self._record(caller, event, caller.account, NO_RESOURCES)

    def _hold(self, caller: Caller, call: ObservedCall, event: CsmEvent, calls: list[ObservedCall]) -> None:
        """Hold a call whose attempts have not come; the calls a full buffer pushes out, into `calls`."""
        self.counters.api_calls_before_attempts += 1
        held = HeldCall(call, caller.identity, *span(event))
        calls += [self._unjoined(pushed) for pushed in self._held.hold(held)]

    def release_held(self, now: float | None) -> list[ObservedCall]:
        """The held calls whose attempts did not come within `MAX_HOLD_SECONDS` of `now` (a monotonic
        clock the caller reads; None at the end of input: every held call)."""
        return [self._unjoined(held) for held in self._held.aged(now)]

    def _unjoined(self, held: HeldCall) -> ObservedCall:
        """A held call without its attempts: the last account its identity showed, no bucket."""
        self.counters.api_calls_unjoined += 1
        caller = self._callers.get(held.identity)
        account = caller.account if caller is not None else None
        return held.call._replace(account=account) if account is not None else held.call

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

    def _attempt(self, caller: Caller, event: CsmEvent, calls: list[ObservedCall]) -> None:
        """Remember an attempt's facts for its call; a held call it belongs to, joined, into `calls`."""
        try:
            account = self._accounts[event.AccessKey]
        except (KeyError, TypeError):
            account = self._facts.account(event.AccessKey)
        caller.account = account
        s3 = caller.s3
        bucket = self._facts.bucket(event.Fqdn, event.Region) if s3 else NO_RESOURCES
        if caller.absorb:  # a retry of a call already joined
            caller.absorb -= 1
            return
        if self._held_by:
            held = self._held.joined_by(caller.identity, event.Timestamp)
            if held is not None:
                caller.absorb = min(held.attempts - 1, MAX_PENDING_ATTEMPTS)
                calls.append(self._joined(held, account, bucket))
                return
        bare = caller.bare
        if bare is not None and within(bare[0], bare[1], event.Timestamp):
            self._learn_calls_first(caller.identity[0])  # an attempt of the call just emitted: calls come first
            caller.bare = None
            caller.absorb = min(bare[2] - 1, MAX_PENDING_ATTEMPTS)
            return
        if caller.unpaired < MAX_PENDING_ATTEMPTS:
            caller.unpaired += 1
        if s3:
            if caller.buckets is None:
                caller.buckets = deque(maxlen=MAX_PENDING_ATTEMPTS)
            caller.buckets.append(bucket)

    def _learn_calls_first(self, client_id: str) -> None:
        if len(self._calls_first) >= MAX_CACHED:
            self._calls_first.clear()
        self._calls_first.add(client_id)
