"""The HTML report: one self-contained page (inline CSS, no script, no external asset) a reviewer opens.

Pure: the aggregator's workloads, their policies (the same builder as the policy files, so generalized
resources and their examples are the policy's), alert events and drift summaries in; a string out.
Every text from the input (workload names, resources, messages) is escaped: names are hostile.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from html import escape
from typing import Any

from .aggregate import Aggregator
from .alerts import DENIED_CALL, NEW_ACTION, grant_pairs, iso_ms
from .policy import PolicyBuilder
from .usage import UNMAPPED, Workload

FIRST_CALL = "FirstCall"  # a timeline entry from the state's first-seen times (no alert stream)
MAX_TIMELINE = 500  # timeline rows per workload at most

STYLE = """
body{font:14px/1.45 system-ui,sans-serif;margin:2em auto;max-width:72em;padding:0 1em;color:#1d2733}
h1{font-size:1.6em}h2{margin-top:2em;border-bottom:2px solid #c5d3e0;padding-bottom:.2em}h3{font-size:1.05em}
table{border-collapse:collapse;width:100%;margin:.4em 0 1em}th,td{border:1px solid #d4dde6;padding:.25em .5em;
text-align:left;vertical-align:top}th{background:#eef3f8}code{font:12px ui-monospace,monospace;word-break:break-all}
.kind{font-weight:600}.NewAction{color:#0b5cad}.DeniedCall{color:#b3261e}.Drift{color:#8a5a00}
.FirstCall{color:#3c6e47}.muted{color:#66727f}nav li{margin:.15em 0}
"""


@dataclass
class WorkloadView:
    name: str
    calls: int
    grants: list[tuple[str, str]]  # (action, resource)
    generalized: list[dict[str, Any]]
    timeline: list[dict[str, Any]] = field(default_factory=list)  # {time, kind, action, resource}
    drift: dict[str, Any] | None = None
    unmapped: list[str] = field(default_factory=list)


def workload_views(
    aggregator: Aggregator,
    builder: PolicyBuilder,
    alerts: Iterable[dict[str, Any]] = (),
    drift: dict[str, Any] | None = None,
) -> list[WorkloadView]:
    """One view per workload; its timeline from the alert events, or (without any) from first-seen times."""
    by_workload: dict[str, list[dict[str, Any]]] = {}
    for detail in alerts:
        by_workload.setdefault(str(detail.get("workload")), []).append(detail)
    views = []
    for name, workload in sorted(aggregator.workloads.items()):
        grants = builder.grants(workload)
        events = by_workload.get(name) or _first_calls(workload)
        views.append(
            WorkloadView(
                name,
                workload.calls,
                sorted(grant_pairs(builder.document(grants))),
                [item.as_dict() for item in grants.generalized],
                sorted(events, key=lambda e: str(e.get("first_seen") or ""))[:MAX_TIMELINE],
                (drift or {}).get(name),
                sorted(f"{u.row[0]}.{u.row[1]}" for u in workload.usage.values() if u.kind == UNMAPPED),
            )
        )
    return views


def _first_calls(workload: Workload) -> list[dict[str, Any]]:
    found = []
    for usage in workload.usage.values():
        kind = DENIED_CALL if usage.denied else FIRST_CALL
        actions = ", ".join(usage.mapping.actions) or "(none needed)"
        found.append({"first_seen": iso_ms(usage.first_seen_ms), "kind": kind, "action": actions, "resource": ""})
        found[-1]["operation"] = f"{usage.row[0]}.{usage.row[1]}"
    return found


def render_page(views: list[WorkloadView], *, title: str, source: str) -> str:
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'unsafe-inline'\">",
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="muted">From {escape(source)}. {len(views)} workloads. Kinds: <span class="{NEW_ACTION}">'
        f'NewAction</span>, <span class="{DENIED_CALL}">DeniedCall</span>, <span class="Drift">Drift</span>, '
        f'<span class="{FIRST_CALL}">FirstCall</span> (first call of an operation, without an alert stream).</p>',
        "<nav><ul>",
        *(f'<li><a href="#w{i}">{escape(v.name)}</a> ({v.calls} calls)</li>' for i, v in enumerate(views)),
        "</ul></nav>",
    ]
    for index, view in enumerate(views):
        parts += _workload_section(index, view)
    parts.append("</body></html>\n")
    return "\n".join(parts)


def _workload_section(index: int, view: WorkloadView) -> list[str]:
    parts = [
        f'<section id="w{index}" class="workload"><h2>{escape(view.name)}</h2>',
        f"<p>{view.calls} calls, {len({a for a, _ in view.grants})} actions granted.</p>",
        "<h3>Policy</h3>",
        _table(
            ("Action", "Resource"), ((f"<code>{escape(a)}</code>", f"<code>{escape(r)}</code>") for a, r in view.grants)
        ),
    ]
    if view.generalized:
        parts += ["<h3>Generalized resources</h3>", _table(("Pattern", "Why", "Examples"), _generalized(view))]
    parts += ["<h3>Timeline</h3>"]
    parts += [
        _table(("First seen", "Event", "Action", "Resource"), _timeline(view)) if view.timeline else "<p>None.</p>"
    ]
    parts += ["<h3>Drift against its role</h3>", _drift(view.drift)]
    parts += ["<h3>Unmapped calls</h3>"]
    parts += [_list(view.unmapped) if view.unmapped else "<p>None.</p>", "</section>"]
    return parts


def _generalized(view: WorkloadView) -> Iterable[tuple[str, ...]]:
    for item in view.generalized:
        examples = "<br>".join(f"<code>{escape(str(e))}</code>" for e in item.get("examples", []))
        why = ", ".join(escape(str(w)) for w in item.get("why", []))
        yield f"<code>{escape(str(item.get('pattern')))}</code>", why, f"{examples} ({escape(str(item.get('from')))})"


def _timeline(view: WorkloadView) -> Iterable[tuple[str, ...]]:
    for event in view.timeline:
        kind = str(event.get("kind", ""))
        label = escape(kind) + (f" ({escape(str(event['finding']))})" if event.get("finding") else "")
        if event.get("operation"):
            label += f'<br><span class="muted">{escape(str(event["operation"]))}</span>'
        yield (
            escape(str(event.get("first_seen") or "")),
            f'<span class="kind {escape(kind)}">{label}</span>',
            f"<code>{escape(str(event.get('action', '')))}</code>",
            f"<code>{escape(str(event.get('resource', '')))}</code>",
        )


def _drift(drift: dict[str, Any] | None) -> str:
    if not drift:
        return '<p class="muted">Not compared (no role mapped, or no drift check yet).</p>'
    missing, unused = drift.get("missing") or [], drift.get("unused_granted") or []
    return (
        f"<p>Role <code>{escape(str(drift.get('role')))}</code>, checked {escape(str(drift.get('checked_at')))}.</p>"
        f"<p>Used, not granted ({len(missing)}):</p>{_list(missing) if missing else '<p>None.</p>'}"
        f"<p>Granted, never used ({len(unused)}):</p>{_list(unused) if unused else '<p>None.</p>'}"
    )


def _list(items: Iterable[str]) -> str:
    return "<ul>" + "".join(f"<li><code>{escape(str(item))}</code></li>" for item in items) + "</ul>"


def _table(headers: tuple[str, ...], rows: Iterable[tuple[str, ...]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(f"<td>{cell}</td>" for cell in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
