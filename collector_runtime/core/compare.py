"""Compare what a workload used (its observed policy) with what a role grants.

Pure: policy documents in, a report out. Granted statements are expanded against the Service
Authorization Reference's full action list, so a wildcard grant such as `dynamodb:*` is reported as
"these N actions were used, the other M never were" rather than as one opaque excess.

Evaluated: Allow and Deny, Action and NotAction, wildcards in action names, several statements and
policies. Not evaluated, and said so in `not_evaluated`: conditions, resource scoping (CSM names no
resources), permission boundaries, SCPs, session and resource-based policies.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import Any

SCHEMA = "csm-collector/compare/v1"
DEPENDENT_SID = "DependentActions"


@dataclass(frozen=True)
class GrantedPolicy:
    source: str  # e.g. "inline:app-policy", "managed:arn:aws:iam::aws:policy/ReadOnlyAccess", "file:x.json"
    document: dict[str, Any]


@dataclass(frozen=True)
class Observed:
    actions: frozenset[str]  # what the calls needed
    dependent: frozenset[str]  # what they may also need (shown, never counted as missing)
    document: dict[str, Any]

    @classmethod
    def from_policy(cls, document: dict[str, Any]) -> Observed:
        observed: set[str] = set()
        dependent: set[str] = set()
        for statement in statements_of(document):
            target = dependent if str(statement.get("Sid", "")).startswith(DEPENDENT_SID) else observed
            target.update(as_list(statement.get("Action")))
        return cls(frozenset(observed), frozenset(dependent - observed), document)


class ActionUniverse:
    """Every valid action, for expanding patterns. Matching is case-insensitive, as in IAM."""

    def __init__(self, actions: Iterable[str]) -> None:
        self.actions = frozenset(actions)
        self._exact = {a.lower(): a for a in self.actions}
        self._by_prefix: dict[str, list[tuple[str, str]]] = {}
        for action in sorted(self.actions):
            prefix = action.split(":", 1)[0].lower()
            self._by_prefix.setdefault(prefix, []).append((action.lower(), action))

    def expand(self, pattern: str) -> frozenset[str]:
        return _expand(self, pattern.strip().lower())

    def canonical(self, action: str) -> str:
        return self._exact.get(action.lower(), action)

    def candidates(self, pattern: str) -> Iterable[tuple[str, str]]:
        prefix = pattern.split(":", 1)[0]
        if "*" in prefix or "?" in prefix:
            return (item for items in self._by_prefix.values() for item in items)
        return self._by_prefix.get(prefix, [])


def _expand(universe: ActionUniverse, pattern: str) -> frozenset[str]:
    if "*" not in pattern and "?" not in pattern:
        exact = universe._exact.get(pattern)
        return frozenset([exact] if exact else [])
    regex = _pattern(pattern)
    return frozenset(action for low, action in universe.candidates(pattern) if regex.match(low))


@cache
def _pattern(pattern: str) -> re.Pattern[str]:
    return re.compile("^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$")


def as_list(value: Any) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if isinstance(v, str)]


def statements_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    statements = document.get("Statement", [])
    return [statements] if isinstance(statements, dict) else [s for s in statements if isinstance(s, dict)]


@dataclass
class StatementReport:
    source: str
    sid: str | None
    effect: str
    patterns: list[str]
    not_action: bool
    granted_count: int
    used: list[str]
    unused_explicit: list[str] = field(default_factory=list)  # listed by name, never used
    wildcards: list[dict[str, Any]] = field(default_factory=list)  # per pattern: used and unused counts
    notes: list[str] = field(default_factory=list)


def compare(
    observed: Observed, granted: list[GrantedPolicy], universe: ActionUniverse, *, extra_notes: Iterable[str] = ()
) -> dict[str, Any]:
    used = {universe.canonical(a) for a in observed.actions}
    reports, allowed, denied = [], set(), set()
    for policy in granted:
        for statement in statements_of(policy.document):
            report, expanded = _statement_report(policy.source, statement, used, universe)
            reports.append(report)
            if report.effect == "Allow":
                allowed |= expanded
            elif report.effect == "Deny" and not statement.get("Condition"):
                denied |= expanded
    missing = sorted(a for a in used if a not in allowed or a in denied)
    excessive = [_excess(r) for r in reports if r.effect == "Allow" and (r.unused_explicit or _unused(r))]
    notes = sorted(
        {n for r in reports for n in r.notes}
        | set(extra_notes)
        | {
            "resource scoping is not evaluated: statements are compared by action (the suggested policy is scoped)",
            "SCPs, session policies and resource-based policies are not evaluated",
        }
    )
    return {
        "schema": SCHEMA,
        "observed": {"actions": sorted(used), "dependent_actions": sorted(observed.dependent)},
        "granted": {"policies": [p.source for p in granted], "allowed_actions": len(allowed - denied)},
        "statements": [_statement_dict(r) for r in reports],
        "excessive": excessive,
        "missing": [{"action": a, "explicitly_denied": a in denied} for a in missing],
        "suggested_policy": observed.document,
        "not_evaluated": notes,
        "summary": {
            "used": len(used),
            "granted": len(allowed - denied),
            "unused_granted": len((allowed - denied) - used),
            "missing": len(missing),
        },
    }


def _statement_report(
    source: str, statement: dict[str, Any], used: set[str], universe: ActionUniverse
) -> tuple[StatementReport, set[str]]:
    not_action = "NotAction" in statement
    patterns = as_list(statement.get("NotAction" if not_action else "Action"))
    expanded: set[str] = set()
    report = StatementReport(
        source, statement.get("Sid"), str(statement.get("Effect", "")), patterns, not_action, 0, []
    )
    for pattern in patterns:
        matches = universe.expand(pattern)
        expanded |= matches
        if not not_action and ("*" in pattern or "?" in pattern):
            hits = sorted(matches & used)
            report.wildcards.append(
                {"pattern": pattern, "grants": len(matches), "used": hits, "unused_count": len(matches) - len(hits)}
            )
        elif not not_action and not matches & used:
            report.unused_explicit.append(pattern if not matches else next(iter(matches)))
        if not matches:
            report.notes.append(f"{source}: {pattern!r} matches no known action")
    if not_action:
        expanded = set(universe.actions) - expanded
    report.granted_count = len(expanded)
    report.used = sorted(expanded & used)
    report.notes += _statement_notes(source, statement, report.sid)
    return report, expanded


def _statement_notes(source: str, statement: dict[str, Any], sid: str | None) -> list[str]:
    label = f"{source} statement {sid or '(no Sid)'}"
    notes = []
    if statement.get("Condition"):
        notes.append(f"{label}: conditions are not evaluated (treated as met for Allow, as not met for Deny)")
    if "NotResource" in statement or as_list(statement.get("Resource")) not in ([], ["*"]):
        notes.append(f"{label}: resource scoping is not evaluated")
    return notes


def _unused(report: StatementReport) -> int:
    return sum(int(w["unused_count"]) for w in report.wildcards) + (
        report.granted_count - len(report.used) if report.not_action else 0
    )


def _excess(report: StatementReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "sid": report.sid,
        "unused_actions": report.unused_explicit,
        "wildcards": report.wildcards,
        "not_action_unused_count": report.granted_count - len(report.used) if report.not_action else 0,
    }


def _statement_dict(report: StatementReport) -> dict[str, Any]:
    return {
        "source": report.source,
        "sid": report.sid,
        "effect": report.effect,
        "not_action": report.not_action,
        "patterns": report.patterns,
        "granted_count": report.granted_count,
        "used": report.used,
        "unused_explicit": report.unused_explicit,
        "wildcards": report.wildcards,
    }


def markdown(result: dict[str, Any], title: str) -> str:
    summary = result["summary"]
    lines = [
        f"# Permissions of {title}",
        "",
        f"- used: **{summary['used']}** actions; granted: **{summary['granted']}**; "
        f"granted but never used: **{summary['unused_granted']}**; used but not granted: **{summary['missing']}**",
        "",
        "## Used but not granted (missing)",
        "",
    ]
    lines += [
        f"- `{m['action']}`" + (" (explicitly denied)" if m["explicitly_denied"] else "") for m in result["missing"]
    ]
    lines += ["" if result["missing"] else "None.", "", "## Granted but never used (excessive)", ""]
    for item in result["excessive"]:
        where = f"{item['source']}" + (f" / {item['sid']}" if item["sid"] else "")
        for action in item["unused_actions"]:
            lines.append(f"- `{action}` ({where})")
        for wildcard in item["wildcards"]:
            used = ", ".join(f"`{a}`" for a in wildcard["used"]) or "none of them"
            lines.append(
                f"- `{wildcard['pattern']}` ({where}): grants {wildcard['grants']} actions; used {used}; "
                f"the other {wildcard['unused_count']} never were"
            )
        if item["not_action_unused_count"]:
            lines.append(
                f"- NotAction statement ({where}): {item['not_action_unused_count']} granted actions never used"
            )
    if not result["excessive"]:
        lines.append("None.")
    lines += ["", "## Not evaluated", ""] + [f"- {note}" for note in result["not_evaluated"]]
    lines += ["", "## Suggested policy", "", "```json", _json(result["suggested_policy"]), "```", ""]
    return "\n".join(lines)


def _json(document: Any) -> str:
    import json

    return json.dumps(document, indent=2)
