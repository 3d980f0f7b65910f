"""The loop's timing policy, driven by a fake clock (plain numbers)."""

from __future__ import annotations

import itertools

from collector_runtime.core.schedule import (
    EVERYTHING,
    MAX_WAIT,
    POLICIES,
    RENDER_AHEAD_QUIET,
    STREAM_SLICE_EVERY,
    FlushSchedule,
)


def test_a_flush_is_due_an_interval_after_the_start_and_after_each_flush() -> None:
    schedule = FlushSchedule(10.0, now=100.0)
    assert not schedule.flush_due(109.9)
    assert schedule.flush_due(110.0)
    schedule.flushed(110.5)
    assert not schedule.flush_due(120.0)
    assert schedule.flush_due(120.5)


def test_the_loop_wakes_for_the_flush_and_at_least_every_max_wait() -> None:
    schedule = FlushSchedule(10.0, now=100.0)
    assert schedule.next_wake(100.0) == 100.0 + MAX_WAIT
    assert schedule.next_wake(109.5) == 110.0
    assert schedule.next_wake(111.0) == 110.0  # overdue: wake at once


def test_the_live_view_refresh_wakes_the_loop_sooner() -> None:
    schedule = FlushSchedule(10.0, now=0.0, refresh=0.25)
    assert schedule.next_wake(3.0) == 3.25


def test_render_ahead_waits_for_a_quiet_moment_after_arrivals() -> None:
    schedule = FlushSchedule(60.0, now=0.0)
    assert not schedule.render_ahead_due(5.0)  # nothing arrived: nothing to render ahead
    schedule.arrived(5.0)
    assert schedule.next_wake(5.0) == 5.0 + RENDER_AHEAD_QUIET
    assert not schedule.render_ahead_due(5.0 + RENDER_AHEAD_QUIET / 2)
    schedule.arrived(5.01)  # a steady stream keeps postponing it
    assert not schedule.render_ahead_due(5.0 + RENDER_AHEAD_QUIET)
    assert schedule.render_ahead_due(5.01 + 2 * RENDER_AHEAD_QUIET) == EVERYTHING


def test_render_ahead_goes_on_in_slices_until_complete() -> None:
    schedule = FlushSchedule(60.0, now=0.0)
    schedule.arrived(1.0)
    later = 1.0 + RENDER_AHEAD_QUIET
    schedule.rendered_ahead(later, EVERYTHING, complete=False)
    assert schedule.render_ahead_due(later) == EVERYTHING and schedule.next_wake(later) == later
    schedule.rendered_ahead(later, EVERYTHING, complete=True)
    assert schedule.render_ahead_due(later) is None
    assert schedule.render_ahead_due(later + 10 * STREAM_SLICE_EVERY) is None  # the policies too: all rendered
    assert schedule.next_wake(later) == later + MAX_WAIT


def stream(schedule: FlushSchedule, start: float, end: float, gap: float = 0.001) -> list[float]:
    """Records arriving every `gap` seconds from `start` to `end` (never a quiet moment); rendering ahead
    whenever due (each slice complete, taking no time); when a slice of the policies ran."""
    slices, now = [], start
    while now < end:
        schedule.arrived(now)
        due = schedule.render_ahead_due(now)
        assert due != EVERYTHING  # no quiet moment in a stream
        if due == POLICIES:
            slices.append(now)
            schedule.rendered_ahead(now, POLICIES, complete=True)
        now = round(now + gap, 6)
    return slices


def test_during_an_unbroken_stream_the_policies_are_rendered_ahead_in_a_duty_cycle() -> None:
    schedule = FlushSchedule(60.0, now=0.0)
    slices = stream(schedule, 10.0, 11.0)
    assert slices[0] >= 10.0 + STREAM_SLICE_EVERY  # not at the stream's first record: after a period of intake
    gaps = [later - earlier for earlier, later in itertools.pairwise(slices)]
    assert gaps and min(gaps) >= STREAM_SLICE_EVERY  # at most one slice per period
    assert len(slices) >= 1.0 / STREAM_SLICE_EVERY - 2  # and one every period while records arrive


def arrivals(schedule: FlushSchedule, *times: float) -> None:
    for now in times:
        schedule.arrived(now)


def test_a_stream_slice_left_incomplete_goes_on_a_period_after_it_ended() -> None:
    schedule = FlushSchedule(60.0, now=0.0)
    arrivals(schedule, 1.0, 1.01, 1.02, 1.03, 1.04)
    assert schedule.render_ahead_due(1.04) is None
    arrivals(schedule, 1.05)
    assert schedule.render_ahead_due(1.05) == POLICIES
    schedule.rendered_ahead(1.055, POLICIES, complete=False)
    arrivals(schedule, 1.06, 1.07, 1.08, 1.09, 1.1)
    assert schedule.render_ahead_due(1.1) is None  # the next slice: a period after this one ended
    arrivals(schedule, 1.105)
    assert schedule.render_ahead_due(1.105) == POLICIES


def test_a_loop_behind_its_stream_still_renders_ahead_in_the_duty_cycle() -> None:
    """Each turn reads a large batch (longer than a quiet moment): records arrive at every turn all the same."""
    schedule = FlushSchedule(60.0, now=0.0)
    slices = stream(schedule, 1.0, 2.0, gap=RENDER_AHEAD_QUIET * 1.5)
    assert len(slices) >= 1.0 / (STREAM_SLICE_EVERY + RENDER_AHEAD_QUIET * 1.5) - 2


def test_after_a_stream_the_quiet_moment_still_renders_everything() -> None:
    """A stream slice renders the policies only; the state fragments wait for the quiet moment."""
    schedule = FlushSchedule(60.0, now=0.0)
    stream(schedule, 1.0, 2.0)
    assert schedule.next_wake(2.0) <= 2.0 + RENDER_AHEAD_QUIET
    assert schedule.render_ahead_due(2.0 + RENDER_AHEAD_QUIET) == EVERYTHING


def test_rendering_ahead_waits_while_a_source_reports_its_queue_deeper_than_a_drain() -> None:
    """A fresh collector under a stream faster than it can yet take (its first seconds: every workload's policy
    changing) spent 6-7% of its loop rendering ahead while its receive buffer overflowed. Intake comes first:
    while a drain leaves more queued than it read, the duty cycle waits; it resumes once the loop caught up."""
    schedule = FlushSchedule(60.0, now=0.0)
    now = behind = 1.0
    while now < 2.0:
        schedule.arrived(now, behind=True)
        assert schedule.render_ahead_due(now) is None
        behind, now = now, round(now + 0.01, 6)
    slices = stream(schedule, now, now + 0.2)  # caught up: the duty cycle again, a period after it was behind
    assert slices and slices[0] >= behind + STREAM_SLICE_EVERY
    assert len(slices) >= 0.2 / STREAM_SLICE_EVERY - 1
