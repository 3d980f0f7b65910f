"""The second half of a flush: what the renderer produced, handed to the observers (alerts) and the
publisher, then to the output directory's writer thread (outputs/write_behind.py); write failures, the
flush's timings and its warnings.

The collector (collector.py) decides when to flush and renders; on the loop's thread this only hands the
texts over (`previous_flush_ms`: the loop's hold); the files are on disk `previous_flush_write_ms` after
the flush began.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from .core.aggregate import Aggregator
from .core.rendering import Rendered
from .frozen_heap import FrozenHeap
from .outputs.output_dir import OutputDirectory
from .outputs.publisher import Publisher
from .outputs.write_behind import WriteBehind, WriteRound

log = logging.getLogger("csm_collector")
Clock = Callable[[], float]


class FlushObserver(Protocol):
    """Told of every flush (on the loop's thread: only quick work), closed after the final one (alerts)."""

    def resumed(self, aggregator: Aggregator, rendered: Rendered, now: float) -> None:
        """What a restored state held: known already, no news."""

    def after_flush(self, aggregator: Aggregator, rendered: Rendered, now: float) -> None: ...

    def close(self, timeout: float) -> None: ...


Written = Callable[[bool, int, float], object]  # ok, files written, milliseconds from the flush's start


@dataclass(frozen=True)
class PendingFlush:
    """A flush handed to the writer thread: when it began, who wants to know when it is on disk."""

    started: float
    on_written: Written | None
    warnings: tuple[str, ...]  # logged once on disk, by the writer thread (a thousand can take the loop ~0.5 s)


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
        self.last_flush_ms: float | None = None  # the loop's hold: render and hand-over
        self.last_write_ms: float | None = None  # the flush's start -> its files on disk (None: not yet, failed)
        self.files_pending = 0  # what the last write round left unwritten
        self._logged_warnings: set[str] = set()
        self._behind: WriteBehind[PendingFlush] = WriteBehind(directory, self._written)
        self.heap = FrozenHeap(clock())

    def begin(self) -> float:
        """A flush starts (counted in the stats it writes); returns its start time."""
        self.flushes += 1
        return self.clock()

    def resumed(self, aggregator: Aggregator, rendered: Rendered) -> None:
        """A restored state, rendered: to the publisher without history entries (nothing changed); the files
        are written at the first flush."""
        self._behind.stage(rendered.files)
        for observer in self.observers:
            observer.resumed(aggregator, rendered, self.wall_clock())
        if self.publisher:
            self.publisher.update(rendered, record_history=False)

    def write(
        self, aggregator: Aggregator, rendered: Rendered, started: float, on_written: Written | None = None
    ) -> int:
        """Hand `rendered` on, and its files to the writer thread; returns the ticket `wait` takes.
        `on_written` is called (on the writer's thread) once the files are on disk or the write failed.
        A failure is logged once and the files stay pending for the next flush; publishing does not
        depend on the disk."""
        for observer in self.observers:
            observer.after_flush(aggregator, rendered, self.wall_clock())
        if self.publisher:
            self.publisher.update(rendered)
        self.last_write_ms = None  # until this flush's files are on disk
        pending = PendingFlush(started, on_written, tuple(rendered.warnings))
        ticket = self._behind.hand_over(rendered.files, pending)
        self.heap.after_flush(self.clock())  # what survived is long-lived: out of later collections
        self.last_flush_ms = round((self.clock() - started) * 1000, 3)
        return ticket

    def wait(self, ticket: int, timeout: float) -> bool:
        """Whether the flush of `ticket` is on disk within `timeout` seconds (False: failed, or still writing)."""
        written = self._behind.wait(ticket, timeout)
        if written is None:
            log.error("the files were not all written within %gs; they stay pending", timeout)
        return bool(written)

    def close(self) -> None:
        """After the final flush: the writer thread ends once it has written what it holds."""
        self._behind.close()

    def _written(self, done: WriteRound[PendingFlush]) -> None:
        """A write round ended (on the writer's thread): the counters, the log, who waits for it."""
        finished = self.clock()
        self.files_pending = done.files_pending
        if done.error is not None:
            self.failed_flushes += len(done.tokens)  # every flush in the round: none of them is on disk
            if self.failed_flushes == len(done.tokens):
                log.error("cannot write to %s: %s (retrying at every flush)", self.directory.root, done.error)
        else:
            self.last_write_ms = round((finished - done.tokens[-1].started) * 1000, 3)
            self._log_warnings(done.tokens[-1].warnings)
            if self.failed_flushes:
                log.warning(
                    "writing to %s works again after %d failed flushes", self.directory.root, self.failed_flushes
                )
                self.failed_flushes = 0
        for flush in done.tokens:
            if flush.on_written:
                milliseconds = round((finished - flush.started) * 1000, 3)
                flush.on_written(done.error is None, done.files_written, milliseconds)

    def _log_warnings(self, warnings: tuple[str, ...]) -> None:
        for warning in warnings:
            if warning not in self._logged_warnings:
                log.warning("%s", warning)
                self._logged_warnings.add(warning)

    def stats(self) -> dict[str, Any]:
        return {
            "flush_count": self.flushes,
            "previous_flush_ms": self.last_flush_ms,
            "previous_flush_write_ms": self.last_write_ms,
            "output_files_pending": self.files_pending,
        }
