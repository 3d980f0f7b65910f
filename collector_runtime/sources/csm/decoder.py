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
from typing import Any

from ...core.accounts import account_from_access_key
from ...core.json_codec import DECODE_ERRORS, loads
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
    CsmEvent,
    integer,
    invalid_reason,
    short_str,
)
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


class CsmDecoder:
    """Turns CSM datagrams into observed calls, counting what it drops.

    The hot path caches each validated identity (ClientId, Service, Api), so a repeated one costs a
    JSON decode and a few dictionary operations; anything unusual takes the slow path, which validates.
    """

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
        counters = self.counters
        counters.datagrams_received += 1
        counters.bytes_received += len(data)
        if b"\n" in data or not 0 < len(data) <= MAX_DATAGRAM_BYTES:
            return self._feed_lines(data)
        try:
            record = loads(data)
        except DECODE_ERRORS:
            counters.reject("not_json")
            return []
        try:  # the hot path: a known identity (anything else goes to `event`, which validates)
            identity = (record.get("ClientId", ""), record["Service"], record["Api"])
            workload = self._identities[identity]
        except (KeyError, TypeError, AttributeError):
            return self.event(record)
        kind = record.get("Type")
        if kind == API_CALL_ATTEMPT:
            counters.events_parsed += 1
            counters.api_call_attempt_events += 1
            return self._attempt(identity, record)
        if kind != API_CALL:
            counters.reject("invalid_fields")
            return []
        counters.events_parsed += 1
        counters.api_call_events += 1
        return self._call(identity, workload, record)

    def _feed_lines(self, data: bytes) -> list[ObservedCall]:
        if len(data) > MAX_DATAGRAM_BYTES:
            self.counters.reject("oversized")
            return []
        lines = [line for line in data.split(b"\n") if line.strip()]
        if not lines:
            self.counters.reject("empty")
            return []
        calls = []
        for line in lines:
            try:
                record = loads(line)
            except DECODE_ERRORS:
                self.counters.reject("not_json")
                continue
            calls += self.event(record)
        return calls

    def event(self, record: Any) -> list[ObservedCall]:
        """One decoded JSON value: the calls it completes (none for a rejected one, which is counted)."""
        if type(record) is not dict:
            self.counters.reject("not_an_object")
            return []
        try:
            identity = (record.get("ClientId", ""), record["Service"], record["Api"])
            workload = self._identities[identity]
        except (KeyError, TypeError):  # a new identity, a missing or unhashable field: validate
            reason = invalid_reason(record)
            if reason:
                self.counters.reject(reason)
                return []
            identity = (record.get("ClientId", ""), record["Service"], record["Api"])
            workload = self._remember(identity)
        kind = record.get("Type")
        self.counters.events_parsed += 1
        if kind == API_CALL:
            self.counters.api_call_events += 1
            return self._call(identity, workload, record)
        if kind == API_CALL_ATTEMPT:
            self.counters.api_call_attempt_events += 1
            return self._attempt(identity, record)
        self.counters.events_parsed -= 1
        self.counters.reject("invalid_fields")
        return []

    def _remember(self, identity: Identity) -> str:
        if len(self._identities) >= self.max_cached_identities:
            self._identities.clear()  # caches: senders inventing names cannot grow them without bound
            self._pending.clear()
        workload = self._identities[identity] = identity[0] or DEFAULT_WORKLOAD
        return workload

    def _call(self, identity: Identity, workload: str, record: CsmEvent) -> list[ObservedCall]:
        get = record.get
        pending = self._pending.get(identity)
        lost = [self._unjoined(held) for held in self._held.of(identity)] if self._held_by else []
        if pending is None or not pending.unpaired:  # its attempts are still to come, or were lost
            if identity[0] in self._calls_first:
                return lost + self._hold(identity, self._record(identity, workload, record, NO_FACTS), record)
            return [*lost, self._bare(identity, workload, record, pending)]
        pending.absorb = 0
        pending.bare = None
        if pending.buckets is None:  # the common case: not S3 (the attempts waiting are this call's)
            pending.unpaired = 0
            facts = pending.account, NO_RESOURCES
        else:
            facts = paired_facts(pending, get("AttemptCount"))
            if facts[1] and facts[1][0].endswith(_ANY_BUCKET):
                self.counters.s3_calls_without_bucket += 1
        call = self._record(identity, workload, record, facts)
        return [*lost, call] if lost else [call]

    def _record(self, identity: Identity, workload: str, record: CsmEvent, facts: AttemptFacts) -> ObservedCall:
        get = record.get
        account, resources = facts
        status = get("FinalHttpStatusCode")
        if (
            get("FinalAwsException") is None
            and get("FinalSdkException") is None
            and not (type(status) is int and status >= 400)
        ):
            outcome, error_code, denied = OK, None, NO_DENIALS  # the common case, decided without the full checks
        else:
            outcome, error_code, denied, named = self._failure(record)
            resources = tuple(dict.fromkeys(resources + named)) if named else resources
        region = get("Region")
        time_ms = get("Timestamp")
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
            time_ms if type(time_ms) is int else None,
        )
        return _new_record(ObservedCall, fields)

    def _bare(self, identity: Identity, workload: str, record: CsmEvent, pending: Pending | None) -> ObservedCall:
        """A call no attempt came before, from a client not known to send calls first: at once, with the
        last account its identity showed; its span is kept to learn the order if its attempts follow."""
        self.counters.api_calls_unjoined += 1
        if pending is None:
            pending = self._pending[identity] = Pending()
        pending.absorb = 0
        pending.bare = span(record)
        return self._record(identity, workload, record, (pending.account, NO_RESOURCES))

    def _hold(self, identity: Identity, call: ObservedCall, record: CsmEvent) -> list[ObservedCall]:
        """Hold a call whose attempts have not come; the calls a full buffer pushes out."""
        self.counters.api_calls_before_attempts += 1
        held = HeldCall(call, identity, *span(record))
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
    def _failure(record: CsmEvent) -> tuple[str, str | None, tuple[str, ...], tuple[str, ...]]:
        """Outcome, error code, and for a denial the actions and resources its message names."""
        error_code = short_str(record.get("FinalAwsException"), MAX_NAME)
        failed = bool(error_code or record.get("FinalSdkException"))
        outcome = outcome_of(failed=failed, error_code=error_code, status=integer(record.get("FinalHttpStatusCode")))
        if outcome != DENIED:
            return outcome, error_code, NO_DENIALS, NO_RESOURCES
        message = short_str(record.get("FinalAwsExceptionMessage"), MAX_MESSAGE)
        return outcome, error_code, actions_named_in(message), resources_named_in(message)

    def _attempt(self, identity: Identity, record: CsmEvent) -> list[ObservedCall]:
        """Remember an attempt's facts for its call; a held call it belongs to, joined."""
        get = record.get
        pending = self._pending.get(identity)
        if pending is None:
            pending = self._pending[identity] = Pending()
        account = pending.account = self._account(get("AccessKey"))
        bucket = self._bucket(get("Fqdn"), get("Region")) if identity[1] == "S3" else NO_RESOURCES
        if pending.absorb:  # a retry of a call already joined
            pending.absorb -= 1
            return []
        if self._held_by:
            held = self._held.joined_by(identity, get("Timestamp"))
            if held is not None:
                pending.absorb = min(held.attempts - 1, MAX_PENDING_ATTEMPTS)
                return [self._joined(held, (account, bucket))]
        bare = pending.bare
        if bare is not None and within(bare[0], bare[1], get("Timestamp")):
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
