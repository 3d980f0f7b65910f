"""CSM datagrams in, observed calls out: the Client-Side Monitoring source. Pure (no socket, no clock).

A datagram is untrusted bytes from the network: anything that is not a well-formed CSM event is
counted with a reason and dropped, never raised. Each `ApiCall` event becomes one `ObservedCall`;
`ApiCallAttempt` events (one per HTTP attempt) carry what the call lacks — the access key (hence
the caller's account) and the host (hence an S3 bucket) — and are paired with the call that follows
them. Secrets never leave this module: a record is built from an allow-list of fields, and the
access key id is reduced to its account at once (`AccessKey` and `SessionToken` are never stored).
"""

from __future__ import annotations

import sys
from collections import deque
from dataclasses import dataclass
from typing import Any

from ..core.accounts import account_from_access_key
from ..core.jsonio import DECODE_ERRORS, loads
from ..core.records import (
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
from ..core.s3 import bucket_arn, bucket_from_fqdn
from .csm_events import (
    API_CALL,
    API_CALL_ATTEMPT,
    MAX_NAME,
    CsmCounters,
    Record,
    integer,
    invalid_reason,
    short_str,
)

MAX_DATAGRAM_BYTES = 65_535
MAX_PENDING_ATTEMPTS = 64  # per identity: attempts waiting for their ApiCall
MAX_CACHED = 50_000  # access keys and host names remembered (caches: cleared when full, nothing lost)
Identity = tuple[str, str, str]  # (ClientId, Service, Api) as sent
Known = tuple[str, str, str, str]  # (ClientId, Service, Api, workload name), interned: one copy of each kept
AttemptFacts = tuple[str | None, tuple[str, ...]]  # (account, resources)
NO_DENIALS: tuple[str, ...] = ()
NO_MEMBERS: frozenset[str] = frozenset()
NO_RESOURCES: tuple[str, ...] = ()
NO_FACTS: AttemptFacts = (None, ())
# ObservedCall(...) runs NamedTuple's Python-level __new__; building the tuple directly gives the same
# record in half the time, which matters at one record per call on the intake path.
_new_record = tuple.__new__


class CsmDecoder:
    """Turns CSM datagrams into observed calls, counting what it drops.

    The hot path caches each validated identity (ClientId, Service, Api), so a repeated one costs a
    JSON decode and a few dictionary operations; anything unusual takes the slow path, which validates.
    What is kept (caches, records) holds the identity's interned names, not the strings of the datagram that
    first carried it: 1,000 workloads calling the same operations share one copy of each name.
    """

    def __init__(self, *, source: str = CSM, max_cached_identities: int = 200_000) -> None:
        self.source = source
        self.counters = CsmCounters()
        self.max_cached_identities = max_cached_identities
        self._identities: dict[Identity, Known] = {}
        self._pending: dict[Known, _Pending] = {}
        self._accounts: dict[str, str | None] = {}  # access key id -> account
        self._buckets: dict[tuple[str, str | None], tuple[str, ...]] = {}  # (Fqdn, Region) -> bucket ARN

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
            known = self._identities[(record.get("ClientId", ""), record["Service"], record["Api"])]
        except (KeyError, TypeError, AttributeError):
            call = self.event(record)
            return [call] if call is not None else []
        kind = record.get("Type")
        if kind == API_CALL_ATTEMPT:
            counters.events_parsed += 1
            counters.api_call_attempt_events += 1
            self._attempt(known, record)
            return []
        if kind != API_CALL:
            counters.reject("invalid_fields")
            return []
        counters.events_parsed += 1
        counters.api_call_events += 1
        return [self._call(known, record)]

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
            call = self.event(record)
            if call is not None:
                calls.append(call)
        return calls

    def event(self, record: Any) -> ObservedCall | None:
        """One decoded JSON value: an ApiCall's record, or None (an attempt, or rejected and counted)."""
        if type(record) is not dict:
            self.counters.reject("not_an_object")
            return None
        try:
            known = self._identities[(record.get("ClientId", ""), record["Service"], record["Api"])]
        except (KeyError, TypeError):  # a new identity, a missing or unhashable field: validate
            reason = invalid_reason(record)
            if reason:
                self.counters.reject(reason)
                return None
            known = self._remember(record.get("ClientId", ""), record["Service"], record["Api"])
        kind = record.get("Type")
        self.counters.events_parsed += 1
        if kind == API_CALL:
            self.counters.api_call_events += 1
            return self._call(known, record)
        if kind == API_CALL_ATTEMPT:
            self.counters.api_call_attempt_events += 1
            self._attempt(known, record)
            return None
        self.counters.events_parsed -= 1
        self.counters.reject("invalid_fields")
        return None

    def _remember(self, client_id: str, service: str, api: str) -> Known:
        if len(self._identities) >= self.max_cached_identities:
            self._identities.clear()  # caches: senders inventing names cannot grow them without bound
            self._pending.clear()
        intern = sys.intern
        client_id, service, api = intern(client_id), intern(service), intern(api)
        known = self._identities[(client_id, service, api)] = (client_id, service, api, client_id or DEFAULT_WORKLOAD)
        return known

    def _call(self, known: Known, record: Record) -> ObservedCall:
        get = record.get
        pending = self._pending.get(known)
        if pending is not None and pending.buckets is None:  # the common case: not S3
            account, resources = pending.account, NO_RESOURCES
        else:
            account, resources = self._paired_facts(pending, get("AttemptCount"))
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
            known[3],
            self.source,
            known[1],
            known[2],
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

    @staticmethod
    def _failure(record: Record) -> tuple[str, str | None, tuple[str, ...], tuple[str, ...]]:
        """Outcome, error code, and for a denial the actions and resources its message names."""
        error_code = short_str(record.get("FinalAwsException"), MAX_NAME)
        failed = bool(error_code or record.get("FinalSdkException"))
        outcome = outcome_of(failed=failed, error_code=error_code, status=integer(record.get("FinalHttpStatusCode")))
        if outcome != DENIED:
            return outcome, error_code, NO_DENIALS, NO_RESOURCES
        message = short_str(record.get("FinalAwsExceptionMessage"), MAX_MESSAGE)
        return outcome, error_code, actions_named_in(message), resources_named_in(message)

    @staticmethod
    def _paired_facts(pending: _Pending | None, attempt_count: Any) -> AttemptFacts:
        """What this call's attempts told: the account of the latest attempt of its identity, and for S3
        the bucket of its own attempts (attempts come before their call, in order: botocore, the CLIs)."""
        if pending is None:
            return NO_FACTS
        buckets = pending.buckets
        if not buckets:
            return pending.account, ()
        resources = buckets.popleft()
        if attempt_count is not None and attempt_count != 1:  # retries: this call's other attempts
            for _ in range(min(integer(attempt_count) or 1, len(buckets) + 1) - 1):
                resources = buckets.popleft()
        return pending.account, resources

    def _attempt(self, known: Known, record: Record) -> None:
        get = record.get
        pending = self._pending.get(known)
        if pending is None:
            pending = self._pending[known] = _Pending()
        pending.account = self._account(get("AccessKey"))
        if known[1] == "S3":
            if pending.buckets is None:
                pending.buckets = deque(maxlen=MAX_PENDING_ATTEMPTS)
            pending.buckets.append(self._bucket(get("Fqdn"), get("Region")))

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
        """The bucket of an S3 virtual-hosted request, from the attempt's host name."""
        key = (fqdn, region)
        try:
            return self._buckets[key]
        except (KeyError, TypeError):
            if type(fqdn) is not str:
                return ()
        region = region if type(region) is str else None
        bucket = bucket_from_fqdn(fqdn[:300])
        if len(self._buckets) >= MAX_CACHED:
            self._buckets.clear()
        known = self._buckets[(fqdn, region)] = (bucket_arn(bucket, region),) if bucket else ()
        return known


@dataclass(slots=True)
class _Pending:
    """Per identity: the account of its latest attempt, and (S3) the buckets of attempts not yet paired."""

    account: str | None = None
    buckets: deque[tuple[str, ...]] | None = None
