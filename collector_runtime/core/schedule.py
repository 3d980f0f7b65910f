"""When the collector's loop should wake, flush and render ahead: the timing policy as a pure object.

In the spirit of aioquic's timers: the loop tells the schedule what happened (records arrived, a flush
was written) and asks it when to wake and what is due; it never computes a timeout itself. Pure: every
method takes `now` (a monotonic clock the caller reads), so tests drive it with plain numbers.
"""

from __future__ import annotations

MAX_WAIT = 1.0  # seconds between two turns of the loop at most (it beats the /health watch)
# Render ahead only once nothing arrived for this long: a steady stream, whose every call changes some
# workload, would otherwise have the same fragments rendered again and again between two flushes.
RENDER_AHEAD_QUIET = 0.02


class FlushSchedule:
    def __init__(self, interval: float, now: float, *, refresh: float | None = None) -> None:
        """`interval`: seconds between two periodic flushes; `refresh`: the live view's, if any."""
        self.interval = interval
        self.refresh = refresh
        self.next_flush = now + interval
        self._render_ahead_pending = False
        self._last_arrival = 0.0

    def next_wake(self, now: float) -> float:
        """The time the loop should wake at the latest, with nothing arriving."""
        wake = min(self.next_flush, now + MAX_WAIT)
        if self.refresh is not None:
            wake = min(wake, now + self.refresh)
        if self._render_ahead_pending:  # wake when the quiet moment begins, then render ahead in slices
            wake = min(wake, max(self._last_arrival + RENDER_AHEAD_QUIET, now))
        return wake

    def arrived(self, now: float) -> None:
        """Records arrived: what changed is to be rendered ahead, once a quiet moment comes."""
        self._render_ahead_pending = True
        self._last_arrival = now

    def render_ahead_due(self, now: float) -> bool:
        return self._render_ahead_pending and now - self._last_arrival >= RENDER_AHEAD_QUIET

    def rendered_ahead(self, *, complete: bool) -> None:
        """A slice of rendering ahead ran; `complete`: nothing changed is left to render."""
        self._render_ahead_pending = not complete

    def flush_due(self, now: float) -> bool:
        return now >= self.next_flush

    def flushed(self, now: float) -> None:
        """A flush ended at `now`: the next periodic one is an interval later."""
        self.next_flush = now + self.interval
