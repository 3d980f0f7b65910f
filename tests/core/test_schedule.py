"""The loop's timing policy, driven by a fake clock (plain numbers)."""

from __future__ import annotations

from collector_runtime.core.schedule import MAX_WAIT, RENDER_AHEAD_QUIET, FlushSchedule


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
    assert schedule.render_ahead_due(5.01 + 2 * RENDER_AHEAD_QUIET)


def test_render_ahead_goes_on_in_slices_until_complete() -> None:
    schedule = FlushSchedule(60.0, now=0.0)
    schedule.arrived(1.0)
    later = 1.0 + RENDER_AHEAD_QUIET
    schedule.rendered_ahead(complete=False)
    assert schedule.render_ahead_due(later) and schedule.next_wake(later) == later
    schedule.rendered_ahead(complete=True)
    assert not schedule.render_ahead_due(later)
    assert schedule.next_wake(later) == later + MAX_WAIT
