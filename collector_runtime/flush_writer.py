"""The second half of a flush: what the renderer produced, handed to the observers (alerts) and the
publisher, then written to the output directory; write failures, the flush's timing and its warnings.

The collector (collector.py) decides when to flush and renders; this writes, on the loop's thread.
"""

from __future__ import annotations

import gc
import logging
from collections.abc import Callable
from typing import Any, Protocol

from .core.aggregate import Aggregator
from .core.rendering import Rendered
from .outputs.output_dir import OutputDirectory
from .outputs.publisher import Publisher

log = logging.getLogger("csm_collector")
Clock = Callable[[], float]


class FlushObserver(Protocol):
    """Told of every flush (on the loop's thread: only quick work), closed after the final one (alerts)."""

    def resumed(self, aggregator: Aggregator, rendered: Rendered, now: float) -> None:
        """What a restored state held: known already, no news."""

    def after_flush(self, aggregator: Aggregator, rendered: Rendered, now: float) -> None: ...

    def close(self, timeout: float) -> None: ...


class FlushWriter:
    def __init__(
        self, directory: OutputDirectory, publisher: Publisher | None, *, clock: Clock, wall_clock: Clock
    ) -> None:
        self.directory = directory
        self.publisher = publisher
        self.clock = clock
        self.wall_clock = wall_clock
        self.observers: list[FlushObserver] = []
        self.flushes = 0
        self.failed_flushes = 0
        self.files_written = 0
        self.last_flush_ms: float | None = None
        self._logged_warnings: set[str] = set()

    def begin(self) -> float:
        """A flush starts (counted in the stats it writes); returns its start time."""
        self.flushes += 1
        return self.clock()

    def resumed(self, aggregator: Aggregator, rendered: Rendered) -> None:
        """A restored state, rendered: to the publisher without history entries (nothing changed); the files
        are written at the first flush."""
        self.directory.update(rendered.files)
        for observer in self.observers:
            observer.resumed(aggregator, rendered, self.wall_clock())
        if self.publisher:
            self.publisher.update(rendered, record_history=False)

    def write(self, aggregator: Aggregator, rendered: Rendered, started: float) -> bool:
        """Hand `rendered` on and write the files. A write failure is logged once and the files stay pending
        for the next flush; publishing does not depend on the disk."""
        for observer in self.observers:
            observer.after_flush(aggregator, rendered, self.wall_clock())
        if self.publisher:
            self.publisher.update(rendered)
        self.directory.update(rendered.files)
        self.files_written = 0
        try:
            self.files_written = self.directory.write()
        except OSError as error:
            self.failed_flushes += 1
            if self.failed_flushes == 1:
                log.error("cannot write to %s: %s (retrying at every flush)", self.directory.root, error)
            return False
        finally:
            self.last_flush_ms = round((self.clock() - started) * 1000, 3)
            # What survived a flush is long-lived state (workloads, usages, caches), freed by reference
            # counting when dropped: keep it out of future collections, whose pauses would grow with it.
            gc.freeze()
        if self.failed_flushes:
            log.warning("writing to %s works again after %d failed flushes", self.directory.root, self.failed_flushes)
            self.failed_flushes = 0
        for warning in rendered.warnings:
            if warning not in self._logged_warnings:
                log.warning("%s", warning)
                self._logged_warnings.add(warning)
        return True

    def stats(self) -> dict[str, Any]:
        return {
            "flush_count": self.flushes,
            "previous_flush_ms": self.last_flush_ms,
            "output_files_pending": self.directory.pending_files,
        }
