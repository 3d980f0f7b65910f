"""When the collector's loop should wake, flush and render ahead: the timing policy as a pure object.

In the spirit of aioquic's timers: the loop tells the schedule what happened (records arrived, a slice of
rendering ahead ran, a flush was written) and asks it when to wake and what is due; it never computes a
timeout itself. Pure: every method takes `now` (a monotonic clock the caller reads), so tests drive it
with plain numbers.

Rendering ahead (policies, policy.json, state fragments: see core.rendering) makes a flush only write:
- in a quiet moment (nothing arrived for RENDER_AHEAD_QUIET), everything that changed, in slices;
- during an unbroken stream, a duty cycle: at most one slice of RENDER_AHEAD_SLICE per STREAM_SLICE_EVERY
  of intake, of the policies only. A call that only bumps counters changes a workload's state fragment,
  not its policy (`Workload.revision` against `version`), so once the stream repeats what the policies
  already hold, a slice only looks and the stream keeps the loop; the state fragments, which every call
  changes, are left to the quiet moment or the flush.
"""

from __future__ import annotations

from typing import Literal

MAX_WAIT = 1.0  # seconds between two turns of the loop at most (it beats the /health watch)
# Render everything ahead only once nothing arrived for this long: a steady stream, whose every call changes
# some workload's counters, would otherwise have the same state fragments rendered again and again.
RENDER_AHEAD_QUIET = 0.02
RENDER_AHEAD_SLICE = 0.005  # seconds of rendering ahead between two looks at the sources (their buffers wait)
STREAM_SLICE_EVERY = 0.05  # during a stream: one slice per this much intake at most (10 % of the loop)

EVERYTHING: Literal["everything"] = "everything"  # in a quiet moment
POLICIES: Literal["policies"] = "policies"  # during a stream
RenderAhead = Literal["everything", "policies"]


class FlushSchedule:
    def __init__(self, interval: float, now: float, *, refresh: float | None = None) -> None:
        """`interval`: seconds between two periodic flushes; `refresh`: the live view's, if any."""
        self.interval = interval
        self.refresh = refresh
        self.next_flush = now + interval
        self._render_ahead_pending = False  # something arrived since everything was rendered ahead
        self._policies_pending = False  # something arrived since the policies were rendered ahead
        self._last_arrival = float("-inf")
        self._next_stream_slice = now + STREAM_SLICE_EVERY

    def next_wake(self, now: float) -> float:
        """The time the loop should wake at the latest, with nothing arriving (arrivals wake it anyway)."""
        wake = min(self.next_flush, now + MAX_WAIT)
        if self.refresh is not None:
            wake = min(wake, now + self.refresh)
        if self._render_ahead_pending:  # wake when the quiet moment begins, then render ahead in slices
            wake = min(wake, max(self._last_arrival + RENDER_AHEAD_QUIET, now))
        return wake

    def arrived(self, now: float, *, behind: bool = False) -> None:
        """Records arrived: what changed is to be rendered ahead, in the stream's slices or once it pauses.
        `behind`: a source left more queued than it read (intake first: the duty cycle waits until it caught up)."""
        if behind or not self._policies_pending:  # a stream begins, or the loop is behind it: a period from now
            self._next_stream_slice = max(self._next_stream_slice, now + STREAM_SLICE_EVERY)
        self._render_ahead_pending = self._policies_pending = True
        self._last_arrival = now

    def render_ahead_due(self, now: float) -> RenderAhead | None:
        """What to render ahead now, in a slice of at most RENDER_AHEAD_SLICE; None: nothing."""
        if self._render_ahead_pending and now - self._last_arrival >= RENDER_AHEAD_QUIET:
            return EVERYTHING
        if self._policies_pending and now >= self._next_stream_slice:
            return POLICIES
        return None

    def rendered_ahead(self, now: float, what: RenderAhead, *, complete: bool) -> None:
        """A slice of rendering `what` ahead ended at `now`; `complete`: nothing of it is left to render."""
        if what == EVERYTHING:
            self._render_ahead_pending = not complete
            self._policies_pending = self._policies_pending and not complete
        else:
            self._policies_pending = not complete
            self._next_stream_slice = now + STREAM_SLICE_EVERY

    def flush_due(self, now: float) -> bool:
        return now >= self.next_flush

    def flushed(self, now: float) -> None:
        """A flush ended at `now`: the next periodic one is an interval later."""
        self.next_flush = now + self.interval
