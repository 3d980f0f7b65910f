"""Compare what a workload used (its observed policy) with what a role grants.

Pure: policy documents in, a report out. Granted statements are expanded against the Service
Authorization Reference's full action list, so a wildcard grant such as `dynamodb:*` is reported as
"these N actions were used, the other M never were" rather than as one opaque excess.

Evaluated: Allow and Deny, Action and NotAction, wildcards in action names, several statements and
policies. Not evaluated, and said so in `not_evaluated`: conditions, resource scoping (CSM names no
resources), permission boundaries, SCPs, session and resource-based policies.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from .wildcard import matches as wildcard_matches

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
        self._expanded: dict[str, frozenset[str]] = {}  # each pattern is expanded twice per statement
        for action in sorted(self.actions):
            prefix = action.split(":", 1)[0].lower()
            self._by_prefix.setdefault(prefix, []).append((action.lower(), action))

    def expand(self, pattern: str) -> frozenset[str]:
        key = pattern.strip().lower()
        known = self._expanded.get(key)
        if known is None:
            known = self._expanded[key] = _expand(self, key)
        return known

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
    return frozenset(action for low, action in universe.candidates(pattern) if wildcard_matches(pattern, low))


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
    not_action_unused: int = 0  # NotAction: granted (and not denied) actions never used
    notes: list[str] = field(default_factory=list)


def compare(
    observed: Observed, granted: list[GrantedPolicy], universe: ActionUniverse, *, extra_notes: Iterable[str] = ()
) -> dict[str, Any]:
    """The report. Every count in `summary` is the length of a list in it: `used` of observed.actions,
    `unused_granted` of unused_granted, `excessive` of excessive, `missing` of missing. An action is
    "unused granted" when some Allow grants it, no unconditional Deny denies it and no call used it;
    an excessive entry is a statement granting at least one of those, and shows only those."""
    used = {universe.canonical(a) for a in observed.actions}
    expanded = [
        (policy.source, statement, _expanded(statement, universe))
        for policy in granted
        for statement in statements_of(policy.document)
    ]
    allowed = set().union(*(e for _, s, e in expanded if _effect(s) == "Allow"))
    denied = set().union(*(e for _, s, e in expanded if _effect(s) == "Deny" and not s.get("Condition")))
    unused = (allowed - denied) - used
    reports = [
        _statement_report(source, s, e, used=used, unused=unused, universe=universe) for source, s, e in expanded
    ]
    missing = sorted(a for a in used if a not in allowed or a in denied)
    excessive = [_excess(r) for r in reports if r.effect == "Allow" and (r.unused_explicit or _unused(r))]
    return {
        "schema": SCHEMA,
        "observed": {"actions": sorted(used), "dependent_actions": sorted(observed.dependent)},
        "granted": {"policies": [p.source for p in granted], "allowed_actions": len(allowed - denied)},
        "statements": [_statement_dict(r) for r in reports],
        "excessive": excessive,
        "unused_granted": sorted(unused),
        "missing": [{"action": a, "explicitly_denied": a in denied} for a in missing],
        "suggested_policy": observed.document,
        "not_evaluated": _notes(reports, extra_notes),
        "summary": {
            "used": len(used),
            "granted": len(allowed - denied),
            "unused_granted": len(unused),
            "excessive": len(excessive),
            "missing": len(missing),
        },
    }


def allowed_actions(granted: list[GrantedPolicy], universe: ActionUniverse) -> set[str]:
    """Every action the policies allow and do not deny unconditionally (by action, as `compare` does)."""
    expanded = [(s, _expanded(s, universe)) for policy in granted for s in statements_of(policy.document)]
    allowed = set().union(*(e for s, e in expanded if _effect(s) == "Allow"))
    return allowed - set().union(*(e for s, e in expanded if _effect(s) == "Deny" and not s.get("Condition")))


def _effect(statement: dict[str, Any]) -> str:
    return str(statement.get("Effect", ""))


def _expanded(statement: dict[str, Any], universe: ActionUniverse) -> set[str]:
    """Every action the statement's Action (or NotAction) covers."""
    not_action = "NotAction" in statement
    covered: set[str] = set()
    for pattern in as_list(statement.get("NotAction" if not_action else "Action")):
        covered |= universe.expand(pattern)
    return set(universe.actions) - covered if not_action else covered


def _notes(reports: list[StatementReport], extra_notes: Iterable[str]) -> list[str]:
    return sorted(
        {n for r in reports for n in r.notes}
        | set(extra_notes)
        | {
            "resource scoping is not evaluated: statements are compared by action (the suggested policy is scoped)",
            "SCPs, session policies and resource-based policies are not evaluated",
        }
    )


def _statement_report(
    source: str,
    statement: dict[str, Any],
    expanded: set[str],
    *,
    used: set[str],
    unused: set[str],
    universe: ActionUniverse,
) -> StatementReport:
    not_action = "NotAction" in statement
    patterns = as_list(statement.get("NotAction" if not_action else "Action"))
    report = StatementReport(source, statement.get("Sid"), _effect(statement), patterns, not_action, 0, [])
    for pattern in patterns:
        matches = universe.expand(pattern)
        if not not_action and ("*" in pattern or "?" in pattern):
            hits, never = sorted(matches & used), len(matches & unused)
            report.wildcards.append({"pattern": pattern, "grants": len(matches), "used": hits, "unused_count": never})
        elif not not_action and matches & unused:
            report.unused_explicit.append(next(iter(matches)))
        if not matches:
            report.notes.append(f"{source}: {pattern!r} matches no known action")
    report.granted_count = len(expanded)
    report.used = sorted(expanded & used)
    report.not_action_unused = len(expanded & unused) if not_action else 0
    report.notes += _statement_notes(source, statement, report.sid)
    return report


def _statement_notes(source: str, statement: dict[str, Any], sid: str | None) -> list[str]:
    label = f"{source} statement {sid or '(no Sid)'}"
    notes = []
    if statement.get("Condition"):
        notes.append(f"{label}: conditions are not evaluated (treated as met for Allow, as not met for Deny)")
    if "NotResource" in statement or as_list(statement.get("Resource")) not in ([], ["*"]):
        notes.append(f"{label}: resource scoping is not evaluated")
    return notes


def _unused(report: StatementReport) -> int:
    return sum(int(w["unused_count"]) for w in report.wildcards) + report.not_action_unused


def _excess(report: StatementReport) -> dict[str, Any]:
    """What the statement grants and nothing used: wildcards all of whose grants were used are left out."""
    return {
        "source": report.source,
        "sid": report.sid,
        "unused_actions": report.unused_explicit,
        "wildcards": [w for w in report.wildcards if w["unused_count"]],
        "not_action_unused_count": report.not_action_unused,
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
        f"granted but never used: **{summary['unused_granted']}** (in {summary['excessive']} statements); "
        f"used but not granted: **{summary['missing']}**",
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
                f"{wildcard['unused_count']} granted and never used"
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
