"""The terminal view of what the collector is learning.

New actions and unmapped calls print as lines when they first appear (batched at the refresh rate,
never per event); a status line with the counters follows them. On a terminal the status line is
rewritten in place; elsewhere (logs, CI) it is printed at most every `status_interval` seconds and
only when a counter changed.
"""

from __future__ import annotations

import logging
from typing import Any, TextIO

from ..collector_stats import source_sections
from ..core.aggregate import Aggregator
from ..core.usage import DENIED_CALL, DENIED_MESSAGE, DEPENDENT, Notice

_CLEAR_LINE = "\r\x1b[K"
log = logging.getLogger("csm_collector")


def format_notice(
    notice: Notice,
    *,
    explain: bool = False,
    source: str | None = None,
    when: tuple[str, ...] = (),
    scoped: bool = False,
) -> str:
    """One line: `+` an action learned, `~` one a request may also need (listed, not granted), `!` one an
    AccessDenied named or a call denied, `?` a call no action is known for. `when`: the members that make a
    request need a `~` action; `scoped`: a denied call's actions are granted on scoped resources."""
    via = f"{notice.service}.{notice.api}"
    if notice.kind == DENIED_CALL:
        hint = " (if its resource is in another account or region: --resource-scope, or name it)" if scoped else ""
        return f"! {notice.workload:<24} {via:<40} denied{hint}"
    if notice.action is None:
        return f"? {notice.workload:<24} {via:<40} not mapped to an IAM action (see stats.json)"
    marker, note = "+", via
    if notice.kind == DEPENDENT:
        condition = f"if the request sets {' or '.join(when)}" if when else "depending on the request"
        marker, note = "~", f"may also need, {condition} ({via}); not granted"
    elif notice.kind == DENIED_MESSAGE:
        marker, note = "!", f"named in an AccessDenied for {via}"
    if explain and source and notice.kind not in (DEPENDENT, DENIED_MESSAGE):
        note = f"{note} [{source}]"
    return f"{marker} {notice.workload:<24} {notice.action:<40} {note}"


def status_line(aggregator: Aggregator, counters: dict[str, Any], rate: float) -> str:
    """`counters`: the collector's counters (the source-neutral totals at the top, a section per source) and
    the runtime figures. `rate`: records received per second."""
    actions = sum(len(w.actions) for w in aggregator.workloads.values())
    sources = source_sections(counters)
    csm = {**counters, **counters.get("csm", {})}  # CSM's own figures: kernel drops, access control
    drops = csm.get("kernel_receive_drops")
    access = csm.get("access")  # only with --allow-from or --rate-limit
    dropped = (
        f" | not allowed {access['dropped_not_allowed']:,} | rate limited {access['dropped_rate_limited']:,}"
        if access
        else ""
    )
    each = ", ".join(f"{name} {int(section['records_received']):,}" for name, section in sources.items())
    rejected = counters.get("rejected", sum(int(section.get("rejected", 0)) for section in sources.values()))
    return (
        f"[csm-collector] workloads {len(aggregator.workloads)} | actions {actions} | "
        f"records {records_received(counters):,} ({rate:,.0f}/s{': ' + each if len(sources) > 1 else ''}) | "
        f"calls {counters.get('calls', 0):,} | unmapped {len(aggregator.stats.unmapped)} | "
        f"denied {counters.get('calls_denied', 0):,} | rejected {rejected:,}"
        + dropped
        + (f" | kernel drops {drops:,}" if drops is not None else "")
    )


def records_received(counters: dict[str, Any]) -> int:
    """Records received from every source: the top-level total, else the sum of the sources' sections."""
    total = counters.get("records_received")
    if total is None:
        total = sum(int(section["records_received"]) for section in source_sections(counters).values())
    return int(total)


class LiveView:
    def __init__(
        self,
        out: TextIO,
        *,
        is_tty: bool,
        explain: bool = False,
        refresh: float = 0.5,
        status_interval: float = 10.0,
    ) -> None:
        self.out = out
        self.is_tty = is_tty
        self.explain = explain
        self.refresh = refresh
        self.status_interval = status_interval
        self._next_refresh = 0.0
        self._next_status = 0.0
        self._last_status = ""
        self._last_count = 0
        self._last_time: float | None = None
        self._rate = 0.0
        self.closed = False  # the reader went away (`listen | head`): the view stops, collecting goes on

    def update(self, now: float, aggregator: Aggregator, counters: dict[str, Any], *, force: bool = False) -> None:
        if self.closed or (now < self._next_refresh and not force):
            return
        try:
            self._update(now, aggregator, counters, force)
        except BrokenPipeError:
            self.closed = True
            log.warning("the live view's reader went away: no more live view (collecting goes on)")

    def _update(self, now: float, aggregator: Aggregator, counters: dict[str, Any], force: bool) -> None:
        self._next_refresh = now + self.refresh
        self._measure_rate(now, records_received(counters))
        lines = [self._format(n, aggregator) for n in aggregator.take_notices()]
        status = status_line(aggregator, counters, self._rate)
        if self.is_tty:
            self._write_tty(lines, status)
        else:
            self._write_plain(lines, status, now, force)

    def _measure_rate(self, now: float, count: int) -> None:
        if self._last_time is not None and now > self._last_time:
            self._rate = (count - self._last_count) / (now - self._last_time)
        self._last_time, self._last_count = now, count

    def _format(self, notice: Notice, aggregator: Aggregator) -> str:
        action_map = aggregator.action_map
        mapping = action_map.lookup(notice.service, notice.api)
        when = next((m.when for m in mapping.may_need if m.action == notice.action), ())
        scoped = notice.kind == DENIED_CALL and any(action_map.resource_types(a) for a in mapping.actions)
        return format_notice(notice, explain=self.explain, source=mapping.source, when=when, scoped=scoped)

    def _write_tty(self, lines: list[str], status: str) -> None:
        if lines:
            self.out.write(_CLEAR_LINE + "\n".join(lines) + "\n")
        self.out.write(_CLEAR_LINE + status)
        self.out.flush()

    def _write_plain(self, lines: list[str], status: str, now: float, force: bool) -> None:
        for line in lines:
            self.out.write(line + "\n")
        due = now >= self._next_status or force
        if due and status != self._last_status:
            self.out.write(status + "\n")
            self._last_status = status
            self._next_status = now + self.status_interval
        self.out.flush()

    def close(self) -> None:
        if self.is_tty and not self.closed:
            try:
                self.out.write("\n")
                self.out.flush()
            except BrokenPipeError:
                self.closed = True
