"""Whether the service loop still turns, and what happens when it is asked to stop and does not.

`LoopWatch`: the loop beats once per turn (at least every second when healthy); /health answers 503 once
it has not turned for `stall_threshold(flush interval)` seconds, so systemd or ECS restart the process.

`StopWatchdog`: SIGTERM (or Ctrl-C) asks the loop to stop; the loop then drains, flushes and exits. If it
has not within STOP_GRACE_SECONDS (stuck in some handler), the watchdog thread writes the files itself,
as the loop would have, and ends the process (exit 1). A second signal does the same at once. Writing
from another thread while the loop is stuck is a best effort: whatever it cannot write is logged, and the
process ends either way, so a stop never waits on a stuck loop.
"""

from __future__ import annotations

import logging
import os
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path

from .limits import MIN_STALL_SECONDS, STALL_FLUSH_INTERVALS, STOP_GRACE_SECONDS

log = logging.getLogger("csm_collector")
Clock = Callable[[], float]


def stall_threshold(flush_interval: float) -> float:
    """Seconds without a turn after which the loop counts as stalled: max(3 x flush interval, 30 s)."""
    return max(STALL_FLUSH_INTERVALS * flush_interval, MIN_STALL_SECONDS)


class LoopWatch:
    def __init__(self, stall_after: float, clock: Clock = time.monotonic) -> None:
        self.stall_after = stall_after
        self.clock = clock
        self._last_turn = clock()

    def beat(self) -> None:
        self._last_turn = self.clock()

    def since_turn(self) -> float:
        return max(self.clock() - self._last_turn, 0.0)

    def stalled(self) -> bool:
        return self.since_turn() > self.stall_after


class StopWatchdog:
    """Ends the process if the loop has not stopped `grace` seconds after the first stop signal."""

    def __init__(
        self,
        write_files: Callable[[], object],
        *,
        grace: float = STOP_GRACE_SECONDS,
        exit_process: Callable[[int], object] = os._exit,
    ) -> None:
        self.write_files = write_files
        self.grace = grace
        self.exit_process = exit_process
        self._timer: threading.Timer | None = None
        self._lock = threading.Lock()
        self._done = False

    def stop_requested(self) -> None:
        """From the signal handler: the first arms the timer, a second one ends the process now."""
        if self._timer is None:
            self._timer = threading.Timer(self.grace, self._force, args=(f"within {self.grace:g}s",))
            self._timer.daemon = True
            self._timer.start()
        else:
            threading.Thread(target=self._force, args=("before a second signal",), daemon=True).start()

    def loop_stopped(self) -> None:
        """The loop ended on its own: nothing to force."""
        with self._lock:
            self._done = True
        if self._timer is not None:
            self._timer.cancel()

    def _force(self, when: str) -> None:
        with self._lock:
            if self._done:
                return
            self._done = True
        log.error("the service loop did not stop %s (%s): writing the files and exiting", when, _main_thread_at())
        try:
            self.write_files()
        except Exception as error:  # best effort: the loop may have left things half-done
            log.error("could not write the files while stopping: %s", error)
        logging.shutdown()
        self.exit_process(1)


def _main_thread_at() -> str:
    """Where the main thread is: the function and line it is stuck in."""
    frame = sys._current_frames().get(threading.main_thread().ident or 0)
    if frame is None:
        return "the main thread is gone"
    return f"stuck in {frame.f_code.co_name} at {Path(frame.f_code.co_filename).name}:{frame.f_lineno}"
