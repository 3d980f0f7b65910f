"""Joining CSM calls with their attempts, in either order. Pure: no clock (`now` is passed in).

botocore and the CLIs send each `ApiCallAttempt` before its `ApiCall`; some SDKs send the call first.
A call that finds no attempt of its identity waiting is held here, bounded, until one of these releases
it: an attempt of its identity made while the call ran (joined: the attempt's account and host), the
next call of the same identity (its attempts were lost), its age, or the buffer's size (the oldest).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from typing import Any

from ...core.records import ObservedCall
from .events import integer
from .fields import CsmEvent

Identity = tuple[str, str, str]  # (ClientId, Service, Api) as sent
MAX_HELD = 4096  # calls held at once, every identity together
MAX_HOLD_SECONDS = 2.0  # a held call's attempts come within milliseconds; this is plenty
SLACK_MS = 1  # timestamps are whole milliseconds
AttemptFacts = tuple[str | None, tuple[str, ...]]  # (account, resources)
Span = tuple[int | None, int | None, int]  # a call's start and end (ms), and its attempt count


def within(started: int | None, ended: int | None, attempt_ms: object) -> bool:
    """Whether an attempt started at `attempt_ms` ran during a call (unknown times: no)."""
    if type(attempt_ms) is not int or started is None:
        return False
    return started - SLACK_MS <= attempt_ms <= (ended if ended is not None else started) + SLACK_MS


@dataclass(slots=True)
class HeldCall:
    call: ObservedCall  # built without its attempts' facts (no account, no bucket)
    identity: Identity
    started: int | None  # the call's Timestamp (ms)
    ended: int | None  # Timestamp + Latency
    attempts: int  # AttemptCount: how many attempts follow
    held_at: float | None = None  # the first `now` seen while held
    done: bool = False


class HeldCalls:
    """Calls waiting for their attempts, oldest first."""

    def __init__(self) -> None:
        self._order: deque[HeldCall] = deque()
        self.by_identity: dict[Identity, deque[HeldCall]] = {}

    def hold(self, held: HeldCall) -> list[HeldCall]:
        """Hold `held`; the calls it pushes out of a full buffer (oldest first)."""
        self._order.append(held)
        self.by_identity.setdefault(held.identity, deque()).append(held)
        pushed = []
        while len(self._order) > MAX_HELD:
            oldest = self._order.popleft()
            if not oldest.done:
                self._forget(oldest)
                pushed.append(oldest)
        return pushed

    def joined_by(self, identity: Identity, attempt_ms: object) -> HeldCall | None:
        """The oldest held call of `identity` that an attempt started at `attempt_ms` belongs to."""
        waiting = self.by_identity.get(identity)
        if not waiting:
            return None
        held = waiting[0]
        if type(attempt_ms) is int and held.started is not None and not within(held.started, held.ended, attempt_ms):
            return None  # an attempt of a later call: this one's attempts were lost
        self._forget(held)
        return held

    def of(self, identity: Identity) -> list[HeldCall]:
        """Every held call of `identity`, released (a new call of the identity: their attempts are lost)."""
        waiting = self.by_identity.pop(identity, None)
        if not waiting:
            return []
        for held in waiting:
            held.done = True
        return list(waiting)

    def aged(self, now: float | None) -> list[HeldCall]:
        """The calls held for `MAX_HOLD_SECONDS` by `now` (None: all of them), released."""
        released = []
        for held in self._order:
            if held.done:
                continue
            if now is not None:
                if held.held_at is None:
                    held.held_at = now
                if now - held.held_at < MAX_HOLD_SECONDS:
                    continue
            self._forget(held)
            released.append(held)
        while self._order and self._order[0].done:
            self._order.popleft()
        return released

    def _forget(self, held: HeldCall) -> None:
        held.done = True
        waiting = self.by_identity.get(held.identity)
        if waiting is not None:
            waiting.remove(held)
            if not waiting:
                del self.by_identity[held.identity]


@dataclass(slots=True)
class Caller:
    """What the decoder knows of one identity: its names (one interned tuple) and workload, then the account of
    its latest attempt, how many attempts no call took yet, (S3) their buckets, how many retries of a held
    call already joined are still to come, the last call emitted without attempts, and its last call's region.
    One object per identity, found with one dictionary lookup per event (the hot path)."""

    identity: Identity
    workload: str
    s3: bool  # an S3 operation: its attempts' hosts name buckets
    account: str | None = None
    buckets: deque[tuple[str, ...]] | None = None
    unpaired: int = 0
    absorb: int = 0
    bare: Span | None = None  # the last call emitted without attempts, until an attempt shows the order
    region: str | None = None  # the region of its last call (checked: a name a region could have)


def span(event: CsmEvent) -> Span:
    """When a call ran (Timestamp, Timestamp + Latency; ms) and how many attempts it made."""
    started, latency, attempts = integer(event.Timestamp), integer(event.Latency), integer(event.AttemptCount)
    ended = started + latency if started is not None and latency is not None and latency >= 0 else None
    return started, ended, attempts if attempts and attempts > 0 else 1


def paired_facts(caller: Caller, attempt_count: Any) -> AttemptFacts:
    """What this call's attempts told: the account of the latest attempt of its identity, and for S3
    the bucket of its own attempts (attempts come before their call, in order: botocore, the CLIs)."""
    buckets = caller.buckets
    if not buckets:
        caller.unpaired = 0
        return caller.account, ()
    resources = buckets.popleft()
    if attempt_count is not None and attempt_count != 1:  # retries: this call's other attempts
        for _ in range(min(integer(attempt_count) or 1, len(buckets) + 1) - 1):
            resources = buckets.popleft()
    caller.unpaired = len(buckets)
    return caller.account, resources
