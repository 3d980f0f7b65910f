"""What the aggregator remembers per workload: the calls it made and the actions they need. Pure data."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .mapping import OperationMapping

OBSERVED, DEPENDENT, DENIED_MESSAGE = "observed", "dependent", "access-denied-message"
DENIED_CALL = "denied-call"  # a notice: an operation was denied for the first time
MAPPED, PERMISSIONLESS, UNMAPPED = 0, 1, 2

# Where a call was sent and what it touched: (region, account, resource ARNs); None where unknown.
Scope = tuple[str | None, str | None, tuple[str, ...]]


# Positions in CallUsage.row. The row is kept in the form state.json stores it (CALL_FIELDS order), so a
# snapshot serialises the live rows as they are instead of building one per call at every flush.
SERVICE, API, CALLS, FAILED, DENIED, FIRST_SEEN, LAST_SEEN, SCOPES, MEMBERS = range(9)
CALL_FIELDS = ("service", "api", "calls", "failed", "denied", "first_seen_ms", "last_seen_ms", "scopes", "members")
# Up to this many scopes an operation's membership test reads row[SCOPES] itself; beyond, a set (a set costs
# over 200 bytes at any size, and most operations of a workload are called in one scope).
SMALL_SCOPES = 8
# Shared until a request sets a member: add_members replaces them, nothing mutates them.
_NO_SCOPE_MEMBERS: dict[Scope, frozenset[str]] = {}
_NO_MEMBER_ROWS: list[list[Any]] = []


@dataclass(slots=True)
class CallUsage:
    """One operation of one workload: how often it was called and the scopes it was called in."""

    mapping: OperationMapping
    kind: int  # MAPPED, PERMISSIONLESS or UNMAPPED, decided once from the mapping
    row: list[Any]  # [service, api, calls, failed, denied, first_seen_ms, last_seen_ms, scopes, members]
    #                 members: [[scope index, [member, ...]], ...]
    scope_set: list[Scope] | set[Scope] = field(init=False)  # row[SCOPES] or a set of it: for `in` tests
    # The request members seen (names only), per scope: a request-dependent action is granted on the
    # resources of the requests that set its member, not on every resource of the operation.
    scope_members: dict[Scope, frozenset[str]] = field(default_factory=dict)

    def __post_init__(self) -> None:
        scopes = self.row[SCOPES]
        self.scope_set = set(scopes) if len(scopes) > SMALL_SCOPES else scopes

    @property
    def calls(self) -> int:
        return int(self.row[CALLS])

    @property
    def failed(self) -> int:
        return int(self.row[FAILED])

    @property
    def denied(self) -> int:
        return int(self.row[DENIED])

    @property
    def first_seen_ms(self) -> int | None:
        return self.row[FIRST_SEEN]  # type: ignore[no-any-return]

    @property
    def last_seen_ms(self) -> int | None:
        return self.row[LAST_SEEN]  # type: ignore[no-any-return]

    @property
    def scopes(self) -> list[Scope]:
        """Where it was called, in first-seen order."""
        return self.row[SCOPES]  # type: ignore[no-any-return]

    @property
    def members(self) -> set[str]:
        """Every request member seen, in any scope."""
        return set().union(*self.scope_members.values())

    def counted(self, fails_only: bool) -> bool:
        """Whether this operation counts towards the policy."""
        return self.row[CALLS] > 0 and (self.row[FAILED] > 0 or not fails_only)

    def add_counts(self, calls: int, failed: int, denied: int) -> None:
        row = self.row
        row[CALLS] += calls
        row[FAILED] += failed
        row[DENIED] += denied

    def seen_at(self, time_ms: int, last_ms: int | None = None) -> None:
        row, last = self.row, time_ms if last_ms is None else last_ms
        if row[FIRST_SEEN] is None or time_ms < row[FIRST_SEEN]:
            row[FIRST_SEEN] = time_ms
        if row[LAST_SEEN] is None or last > row[LAST_SEEN]:
            row[LAST_SEEN] = last

    def add_scope(self, scope: Scope) -> None:
        scopes = self.row[SCOPES]
        scopes.append(scope)
        if isinstance(self.scope_set, set):
            self.scope_set.add(scope)
        elif len(scopes) > SMALL_SCOPES:
            self.scope_set = set(scopes)

    def add_members(self, scope: Scope, members: frozenset[str]) -> bool:
        """Note the members a request in `scope` (one of row[SCOPES]) set; whether any is new there."""
        known = self.scope_members.get(scope)
        if known is not None and members <= known:
            return False
        if self.scope_members is _NO_SCOPE_MEMBERS:
            self.scope_members = {}
        self.scope_members[scope] = members if known is None else known | members
        # stored as [index in row[SCOPES], sorted names], rebuilt on the rare change
        self.row[MEMBERS] = [
            [index, sorted(self.scope_members[seen])]
            for index, seen in enumerate(self.row[SCOPES])
            if seen in self.scope_members
        ]
        return True


def usage_of(mapping: OperationMapping, service: str, api: str) -> CallUsage:
    """A new usage of the operation `service`/`api` as the source named it."""
    kind = MAPPED if mapping.actions else (PERMISSIONLESS if mapping.mapped else UNMAPPED)
    row = [service, api, 0, 0, 0, None, None, [], _NO_MEMBER_ROWS]
    return CallUsage(mapping, kind, row, _NO_SCOPE_MEMBERS)


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
    usage: dict[tuple[str, str], CallUsage] = field(default_factory=dict)  # (service, operation) -> usage
    actions: dict[str, ActionOrigin] = field(default_factory=dict)
    has_denials: bool = False  # an action came from an AccessDenied message (saves scanning at snapshots)
    calls: int = 0  # every call of every operation
    version: int = 0  # bumped whenever the rendered policy may change
    revision: int = 0  # bumped at every change (counts included): the state snapshot reuses unchanged ones


@dataclass(slots=True)
class CallStats:
    """The aggregator's counters (what sources count themselves, such as datagrams, is theirs)."""

    calls: int = 0
    calls_mapped: int = 0
    calls_permissionless: int = 0
    calls_unmapped: int = 0
    calls_failed: int = 0
    calls_denied: int = 0
    unmapped: Counter[tuple[str, str]] = field(default_factory=Counter)
    # workload_limit, call_limit, resource_limit, resource_pattern
    dropped: Counter[str] = field(default_factory=Counter)
    notices_dropped: int = 0

    def count(self, usage: CallUsage, calls: int, failed: bool, denied: bool) -> None:
        self.calls += calls
        if usage.kind == MAPPED and not failed:  # the common case first
            self.calls_mapped += calls
            return
        if failed:
            self.calls_failed += calls
        if denied:
            self.calls_denied += calls
        if usage.kind == MAPPED:
            self.calls_mapped += calls
        elif usage.kind == PERMISSIONLESS:
            self.calls_permissionless += calls
        else:
            self.calls_unmapped += calls
            self.unmapped[(usage.mapping.service, usage.mapping.api)] += calls

    def as_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "calls_mapped": self.calls_mapped,
            "calls_permissionless": self.calls_permissionless,
            "calls_unmapped": self.calls_unmapped,
            "calls_failed": self.calls_failed,
            "calls_denied": self.calls_denied,
            "calls_dropped": dict(sorted(self.dropped.items())),
            "unmapped_calls": [{"service": s, "api": a, "calls": n} for (s, a), n in sorted(self.unmapped.items())],
        }

    def add(self, saved: dict[str, Any]) -> None:
        """Add counters saved by `as_dict` (a restart continues the totals)."""
        for name in CALL_COUNTERS:
            setattr(self, name, getattr(self, name) + int(saved.get(name, 0)))
        self.dropped.update({str(k): int(v) for k, v in (saved.get("calls_dropped") or {}).items()})
        for item in saved.get("unmapped_calls", []):
            self.unmapped[(str(item["service"]), str(item["api"]))] += int(item["calls"])


CALL_COUNTERS = ("calls", "calls_mapped", "calls_permissionless", "calls_unmapped", "calls_failed", "calls_denied")
