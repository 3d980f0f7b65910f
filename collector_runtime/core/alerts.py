"""Alerts: what changed in a workload's behaviour, as events. Pure (no clock: every decision gets `now`).

Three kinds (the `detail-type` of the EventBridge event, `kind` in alerts.jsonl and the webhook's body):
- NewAction: a workload's policy grants an (action, resource pattern) pair it did not grant before, once
  the workload's learning period is over (pairs seen during it are learned silently). Resources are the
  policy's (generalized, see generalize.py), so a new S3 key under a generalized prefix is no news.
- DeniedCall: an operation of a workload was denied, with the actions the denial message named (else the
  operation's actions) and the resources the call or the message named.
- Drift (see drift.py): what the workload used that its role does not grant, and after a window what the
  role grants that the workload never used.

Every event is deduplicated by (kind, workload, action, resource[, finding]) for the life of the
collector, and a token bucket bounds how many are sent; both are counted.
"""

from __future__ import annotations

import datetime as dt
import shlex
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from .usage import DENIED_MESSAGE, Workload

NEW_ACTION, DENIED_CALL, DRIFT = "NewAction", "DeniedCall", "Drift"
KINDS = (NEW_ACTION, DENIED_CALL, DRIFT)
SCHEMA = "csm-collector/alert/v1"
MAX_REMEMBERED = 200_000  # dedup keys kept at most; past it new events are still sent (counted)
MAX_RESOURCES = 10  # resources named in one DeniedCall event at most


@dataclass(frozen=True, slots=True)
class Alert:
    kind: str
    workload: str
    action: str
    resource: str
    first_seen_ms: int | None
    extra: tuple[tuple[str, str], ...] = ()  # e.g. ("finding", "missing"), ("role", arn), ("operation", "S3.Get")

    @property
    def key(self) -> tuple[str, ...]:
        return (self.kind, self.workload, self.action, self.resource, *(value for _, value in self.extra[:1]))

    def detail(self, output_dir: str) -> dict[str, Any]:
        """The event's `detail` (the documented schema): names only, never a request body or a secret."""
        return {
            "schema": SCHEMA,
            "kind": self.kind,
            "workload": self.workload,
            "action": self.action,
            "resource": self.resource,
            "first_seen": iso_ms(self.first_seen_ms),
            **dict(self.extra),
            "explain": explain_hint(output_dir, self.workload),
        }


def iso_ms(time_ms: int | None) -> str | None:
    if time_ms is None:
        return None
    return dt.datetime.fromtimestamp(time_ms / 1000, dt.UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def explain_hint(output_dir: str, workload: str) -> str:
    """The command line that shows where each of the workload's actions comes from (quoted for a shell)."""
    return f"csm-collector explain --output-dir {shlex.quote(output_dir)} --workload {shlex.quote(workload)}"


def grant_pairs(document: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(action, resource pattern) of every Allow statement of a policy document."""
    statements = document.get("Statement", [])
    for statement in statements if isinstance(statements, list) else [statements]:
        if not isinstance(statement, dict) or statement.get("Effect") != "Allow":
            continue
        for action in _strings(statement.get("Action")):
            for resource in _strings(statement.get("Resource")) or ["*"]:
                yield action, resource


def _strings(value: Any) -> list[str]:
    if isinstance(value, str):
        return [value]
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def first_seen_of(workload: Workload, action: str) -> int | None:
    """When the workload first made a call that needs `action` (the operation its origin names)."""
    origin = workload.actions.get(action)
    usage = workload.usage.get((origin.service, origin.api)) if origin else None
    return usage.first_seen_ms if usage else None


@dataclass
class NewActionDetector:
    """Remembers each workload's granted pairs; reports those granted after its learning period."""

    learning_period: float = 0.0  # seconds from the first time a workload is seen
    _known: dict[str, set[tuple[str, str]]] = field(default_factory=dict)
    _since: dict[str, float] = field(default_factory=dict)

    def learned(self, workload: Workload, document: dict[str, Any], now: float) -> None:
        """A workload restored from a snapshot: its pairs are known and its learning period is over."""
        self._since.setdefault(workload.name, now - self.learning_period)
        self._known.setdefault(workload.name, set()).update(grant_pairs(document))

    def check(self, workload: Workload, document: dict[str, Any], now: float) -> list[Alert]:
        since = self._since.setdefault(workload.name, now)
        known = self._known.setdefault(workload.name, set())
        learning = now - since < self.learning_period
        found = []
        for pair in grant_pairs(document):
            if pair in known:
                continue
            known.add(pair)
            if not learning:
                action, resource = pair
                found.append(Alert(NEW_ACTION, workload.name, action, resource, first_seen_of(workload, action)))
        return found


@dataclass
class DeniedCallDetector:
    """Reports each operation of a workload the first time (and each time more of it is) denied."""

    _denied: dict[tuple[str, str, str], int] = field(default_factory=dict)

    def check(self, workload: Workload) -> list[Alert]:
        found = []
        for (service, api), usage in workload.usage.items():
            denied = usage.denied
            key = (workload.name, service, api)
            if not denied or self._denied.get(key) == denied:
                continue
            self._denied[key] = denied
            named = [
                a for a, o in workload.actions.items() if o.kind == DENIED_MESSAGE and (o.service, o.api) == key[1:]
            ]
            actions = named or list(usage.mapping.actions) or [f"{service}:{api}"]
            resources = sorted({arn for _, _, arns in usage.scopes for arn in arns})[:MAX_RESOURCES]
            operation = (("operation", f"{service}.{api}"),)
            for action in actions:
                for resource in resources or ["*"]:
                    found.append(Alert(DENIED_CALL, workload.name, action, resource, usage.first_seen_ms, operation))
        return found


@dataclass
class TokenBucket:
    """At most `rate` events a second on average, in bursts of at most `burst`."""

    rate: float
    burst: float
    _tokens: float | None = None
    _at: float = 0.0

    def allow(self, now: float) -> bool:
        tokens = self.burst if self._tokens is None else min(self.burst, self._tokens + (now - self._at) * self.rate)
        self._at = now
        if tokens < 1:
            self._tokens = tokens
            return False
        self._tokens = tokens - 1
        return True


@dataclass
class Gate:
    """Deduplication, then the rate limit: which alerts are sent; what is not, counted."""

    bucket: TokenBucket
    counts: dict[str, int] = field(default_factory=lambda: dict.fromkeys(("deduplicated", "rate_limited"), 0))
    _seen: set[tuple[str, ...]] = field(default_factory=set)

    def admit(self, alerts: Iterable[Alert], now: float) -> list[Alert]:
        sent = []
        for alert in alerts:
            if alert.key in self._seen:
                self.counts["deduplicated"] += 1
                continue
            if not self.bucket.allow(now):
                self.counts["rate_limited"] += 1
                continue  # dropped and counted: a burst of findings never floods the targets
            if len(self._seen) < MAX_REMEMBERED:
                self._seen.add(alert.key)
            sent.append(alert)
        return sent
