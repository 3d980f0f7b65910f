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

from collections import deque
from itertools import repeat
from operator import contains
from typing import Any

from ...core.accounts import account_from_access_key
from ...core.records import (
    CSM,
    DEFAULT_WORKLOAD,
    DENIED,
    MAX_MESSAGE,
    OK,
    ObservedCall,
    actions_named_in,
    outcome_of,
    resources_named_in,
)
from ...core.s3_buckets import bucket_arn, bucket_from_fqdn, names_some_bucket
from .events import (
    API_CALL,
    API_CALL_ATTEMPT,
    MAX_NAME,
    CsmCounters,
    integer,
    invalid_reason,
    short_str,
)
from .fields import CsmEvent, NotAnObject, NotJson, decode_batch, decode_event
from .join import (
    MAX_HOLD_SECONDS,
    NO_FACTS,
    AttemptFacts,
    HeldCall,
    HeldCalls,
    Pending,
    paired_facts,
    span,
    within,
)

MAX_DATAGRAM_BYTES = 65_535
NEWLINE = 10  # b"\n" as an int: `10 in data` is a memchr
MAX_PENDING_ATTEMPTS = 64  # per identity: attempts waiting for their ApiCall
MAX_CACHED = 50_000  # access keys and host names remembered (caches: cleared when full, nothing lost)
Identity = tuple[str, str, str]  # (ClientId, Service, Api) as sent
__all__ = ["MAX_DATAGRAM_BYTES", "MAX_HOLD_SECONDS", "CsmDecoder"]
NO_DENIALS: tuple[str, ...] = ()
NO_MEMBERS: frozenset[str] = frozenset()
NO_RESOURCES: tuple[str, ...] = ()
_ANY_BUCKET = ":s3:::*"
# ObservedCall(...) runs NamedTuple's Python-level __new__; building the tuple directly gives the same
# record in half the time, which matters at one record per call on the intake path.
_new_record = tuple.__new__
_MIN_INT, _MAX_INT = -(2**63), 2**63 - 1


class CsmDecoder:
    """Turns CSM datagrams into observed calls, counting what it drops."""

    def __init__(self, *, source: str = CSM, max_cached_identities: int = 200_000) -> None:
        self.source = source
        self.counters = CsmCounters()
        self.max_cached_identities = max_cached_identities
        self._identities: dict[Identity, str] = {}  # identity -> workload name
        self._pending: dict[Identity, Pending] = {}
        self._accounts: dict[str, str | None] = {}  # access key id -> account
        self._buckets: dict[tuple[str, str | None], tuple[str, ...]] = {}  # (Fqdn, Region) -> bucket ARN
        self._held = HeldCalls()
        self._held_by = self._held.by_identity  # truthy while any call is held (a cheap test per event)
        self._calls_first: set[str] = set()  # ClientIds seen sending an ApiCall before its attempts

    def feed(self, data: bytes) -> list[ObservedCall]:
        """One datagram in; its calls out (an attempt alone yields none)."""
        return self.feed_batch([data])

    def feed_batch(self, datagrams: list[bytes]) -> list[ObservedCall]:
        """Datagrams in, in arrival order; their calls out. The hot path: one JSON decode for the whole batch
        (a line per datagram); a batch with any datagram that is not one clean line is decoded one by one."""
        count = len(datagrams)
        if not count:
            return []
        counters = self.counters
        counters.datagrams_received += count
        joined = b"\n".join(datagrams) if count > 1 else datagrams[0]
        counters.bytes_received += len(joined) - (count - 1)
        events = None
        if not any(map(contains, datagrams, repeat(NEWLINE))) and max(map(len, datagrams)) <= MAX_DATAGRAM_BYTES:
            events = decode_batch(joined)
        if events is None or len(events) != count:  # a datagram with a newline, blank, or not a JSON object
            calls = []
            for data in datagrams:
                calls += self._feed_one(data)
            return calls
        return self.events(events)

    def _feed_one(self, data: bytes) -> list[ObservedCall]:
        if b"\n" in data or not 0 < len(data) <= MAX_DATAGRAM_BYTES:
            return self._feed_lines(data)
        event = self._decode(data)
        return self.events([event]) if event is not None else []

    def _feed_lines(self, data: bytes) -> list[ObservedCall]:
        if len(data) > MAX_DATAGRAM_BYTES:
            self.counters.reject("oversized")
            return []
        lines = [line for line in data.split(b"\n") if line.strip()]
        if not lines:
            self.counters.reject("empty")
            return []
        events = [event for event in map(self._decode, lines) if event is not None]
        return self.events(events)

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
        dictionary operations; a new or malformed one goes to `_new_identity`, which validates."""
        identities = self._identities
        calls: list[ObservedCall] = []
        api_calls = attempts = 0
        for event in events:
            identity = (event.ClientId, event.Service, event.Api)
            try:
                workload = identities[identity]
            except (KeyError, TypeError):  # new, or a field unhashable (a list): validate
                calls += self._new_identity(event)
                continue
            kind = event.Type
            if kind == API_CALL:
                api_calls += 1
                calls += self._call(identity, workload, event)
            elif kind == API_CALL_ATTEMPT:
                attempts += 1
                joined = self._attempt(identity, event)
                if joined:
                    calls += joined
            else:
                self.counters.reject("invalid_fields")
        counters = self.counters
        counters.events_parsed += api_calls + attempts
        counters.api_call_events += api_calls
        counters.api_call_attempt_events += attempts
        return calls

    def _new_identity(self, event: CsmEvent) -> list[ObservedCall]:
        reason = invalid_reason(event)
        if reason:
            self.counters.reject(reason)
            return []
        self._remember((event.ClientId, event.Service, event.Api))
        return self.events([event])

    def _remember(self, identity: Identity) -> str:
        if len(self._identities) >= self.max_cached_identities:
            self._identities.clear()  # caches: senders inventing names cannot grow them without bound
            self._pending.clear()
        workload = self._identities[identity] = identity[0] or DEFAULT_WORKLOAD
        return workload

    def _call(self, identity: Identity, workload: str, event: CsmEvent) -> list[ObservedCall]:
        pending = self._pending.get(identity)
        lost = [self._unjoined(held) for held in self._held.of(identity)] if self._held_by else []
        if pending is None or not pending.unpaired:  # its attempts are still to come, or were lost
            if identity[0] in self._calls_first:
                return lost + self._hold(identity, self._record(identity, workload, event, NO_FACTS), event)
            return [*lost, self._bare(identity, workload, event, pending)]
        pending.absorb = 0
        pending.bare = None
        if pending.buckets is None:  # the common case: not S3 (the attempts waiting are this call's)
            pending.unpaired = 0
            facts = pending.account, NO_RESOURCES
        else:
            facts = paired_facts(pending, event.AttemptCount)
            if facts[1] and facts[1][0].endswith(_ANY_BUCKET):
                self.counters.s3_calls_without_bucket += 1
        call = self._record(identity, workload, event, facts)
        return [*lost, call] if lost else [call]

    def _record(self, identity: Identity, workload: str, event: CsmEvent, facts: AttemptFacts) -> ObservedCall:
        account, resources = facts
        status = event.FinalHttpStatusCode
        if (
            event.FinalAwsException is None
            and event.FinalSdkException is None
            and not (type(status) is int and status >= 400)
        ):
            outcome, error_code, denied = OK, None, NO_DENIALS  # the common case, decided without the full checks
        else:
            outcome, error_code, denied, named = self._failure(event)
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
            time_ms if type(time_ms) is int and _MIN_INT <= time_ms <= _MAX_INT else None,  # JSON ints are unbounded
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
        return self._record(identity, workload, event, (pending.account, NO_RESOURCES))

    def _hold(self, identity: Identity, call: ObservedCall, event: CsmEvent) -> list[ObservedCall]:
        """Hold a call whose attempts have not come; the calls a full buffer pushes out."""
        self.counters.api_calls_before_attempts += 1
        held = HeldCall(call, identity, *span(event))
        return [self._unjoined(pushed) for pushed in self._held.hold(held)]

    def release_held(self, now: float | None) -> list[ObservedCall]:
        """The held calls whose attempts did not come within `MAX_HOLD_SECONDS` of `now` (a monotonic
        clock the caller reads; None at the end of input: every held call)."""
        return [self._unjoined(held) for held in self._held.aged(now)]

    def _unjoined(self, held: HeldCall) -> ObservedCall:
        """A held call without its attempts: the last account its identity showed, no bucket."""
        self.counters.api_calls_unjoined += 1
        pending = self._pending.get(held.identity)
        return held.call._replace(account=pending.account) if pending is not None else held.call

    def _joined(self, held: HeldCall, facts: AttemptFacts) -> ObservedCall:
        """A held call with the facts of its (first) attempt, as if the attempt had come first."""
        account, resources = facts
        self._count_unscoped(resources)
        named = held.call.resources
        return held.call._replace(
            account=account, resources=tuple(dict.fromkeys(resources + named)) if named else resources
        )

    def _count_unscoped(self, resources: tuple[str, ...]) -> None:
        if resources and resources[0].endswith(_ANY_BUCKET):
            self.counters.s3_calls_without_bucket += 1

    @staticmethod
    def _failure(event: CsmEvent) -> tuple[str, str | None, tuple[str, ...], tuple[str, ...]]:
        """Outcome, error code, and for a denial the actions and resources its message names."""
        error_code = short_str(event.FinalAwsException, MAX_NAME)
        failed = bool(error_code or event.FinalSdkException)
        outcome = outcome_of(failed=failed, error_code=error_code, status=integer(event.FinalHttpStatusCode))
        if outcome != DENIED:
            return outcome, error_code, NO_DENIALS, NO_RESOURCES
        message = short_str(event.FinalAwsExceptionMessage, MAX_MESSAGE)
        return outcome, error_code, actions_named_in(message), resources_named_in(message)

    def _attempt(self, identity: Identity, event: CsmEvent) -> list[ObservedCall]:
        """Remember an attempt's facts for its call; a held call it belongs to, joined."""
        pending = self._pending.get(identity)
        if pending is None:
            pending = self._pending[identity] = Pending()
        account = pending.account = self._account(event.AccessKey)
        bucket = self._bucket(event.Fqdn, event.Region) if identity[1] == "S3" else NO_RESOURCES
        if pending.absorb:  # a retry of a call already joined
            pending.absorb -= 1
            return []
        if self._held_by:
            held = self._held.joined_by(identity, event.Timestamp)
            if held is not None:
                pending.absorb = min(held.attempts - 1, MAX_PENDING_ATTEMPTS)
                return [self._joined(held, (account, bucket))]
        bare = pending.bare
        if bare is not None and within(bare[0], bare[1], event.Timestamp):
            self._learn_calls_first(identity[0])  # an attempt of the call just emitted: calls come first
            pending.bare = None
            pending.absorb = min(bare[2] - 1, MAX_PENDING_ATTEMPTS)
            return []
        if pending.unpaired < MAX_PENDING_ATTEMPTS:
            pending.unpaired += 1
        if identity[1] == "S3":
            if pending.buckets is None:
                pending.buckets = deque(maxlen=MAX_PENDING_ATTEMPTS)
            pending.buckets.append(bucket)
        return []

    def _learn_calls_first(self, client_id: str) -> None:
        if len(self._calls_first) >= MAX_CACHED:
            self._calls_first.clear()
        self._calls_first.add(client_id)

    def _account(self, access_key: Any) -> str | None:
        """The account an access key id encodes (remembered per key id, in memory only, never written)."""
        try:
            return self._accounts[access_key]
        except (KeyError, TypeError):
            if type(access_key) is not str:
                return None
        if len(self._accounts) >= MAX_CACHED:
            self._accounts.clear()
        account = self._accounts[access_key] = account_from_access_key(access_key)
        return account

    def _bucket(self, fqdn: Any, region: Any) -> tuple[str, ...]:
        """The bucket of an S3 virtual-hosted request, from the attempt's host name (path-style: any bucket)."""
        key = (fqdn, region)
        try:
            return self._buckets[key]
        except (KeyError, TypeError):
            if type(fqdn) is not str:
                return ()
        region = region if type(region) is str else None
        bucket = bucket_from_fqdn(fqdn[:300])
        if bucket is None and names_some_bucket(fqdn):
            bucket = "*"  # path-style: some bucket, which one unknown (counted as unscoped)
        if len(self._buckets) >= MAX_CACHED:
            self._buckets.clear()
        known = self._buckets[(fqdn, region)] = (bucket_arn(bucket, region),) if bucket else ()
        return known
