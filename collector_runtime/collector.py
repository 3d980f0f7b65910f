"""The running collector: sources -> pipeline -> core -> outputs, periodic and on-demand flushes, clean stop.

Single-threaded event loop. Other threads and signal handlers only set flags and wake the loop
(`request_flush`, `request_stop`), so intake never races with a flush. Publishing (S3, SSM), archive
compression and writing the output files (outputs/write_behind.py: the loop only renders and hands the
texts over) run in their own threads and never make intake wait. On stop, every datagram already queued
in the socket is read before the final flush, which waits for its files (at most FINAL_WRITE_SECONDS):
nothing received before a clean shutdown is missing from the files.
"""

from __future__ import annotations

import logging
import select
import time
from collections.abc import Callable, Sequence
from typing import Any

from .collector_stats import iso, source_totals
from .core.aggregate import Aggregator
from .core.mapping import ActionMap
from .core.records import ObservedCall
from .core.rendering import FlushRenderer, Rendered
from .core.saved_counts import SOURCE_NAMES, saved_section
from .core.schedule import EVERYTHING, RENDER_AHEAD_SLICE, FlushSchedule, RenderAhead
from .flush_writer import FlushObserver, FlushWriter, Written
from .limits import FINAL_WRITE_SECONDS, MAX_STOP_DRAIN_ROUNDS
from .loop_inbox import LoopInbox
from .loop_watch import LoopWatch, stall_threshold
from .outputs.archive import ArchiveWriter
from .outputs.live_view import LiveView
from .outputs.output_dir import OutputDirectory
from .outputs.publisher import Publisher
from .outputs.run_log import RunLog
from .pipeline import Pipeline
from .settings import CollectorOptions
from .sources.source import DRAIN_LIMIT, Intake, PolledSource, Source

log = logging.getLogger("csm_collector")
Clock = Callable[[], float]


class CollectorService:
    def __init__(
        self,
        settings: CollectorOptions,
        action_map: ActionMap,
        *,
        sources: Sequence[Source] = (),
        view: LiveView | None = None,
        publisher: Publisher | None = None,
        archive: ArchiveWriter | None = None,
        clock: Clock = time.monotonic,
        wall_clock: Clock = time.time,
    ) -> None:
        self.settings = settings
        self.view = view
        self.publisher = publisher
        self.archive = archive
        self.clock = clock
        self.wall_clock = wall_clock
        output = settings.output
        self.aggregator = Aggregator(action_map, fails_only=output.policy.fails_only, limits=settings.limits)
        self.pipeline = Pipeline(self.aggregator, archive=archive.append if archive else None)
        self.renderer = FlushRenderer(action_map, output.policy, max_policy_chars=output.max_policy_chars)
        self.directory = OutputDirectory(output.output_dir, self.renderer.files_again)
        self.renderer.adopt(self.directory.policy_files())
        self.writer = FlushWriter(self.directory, publisher, clock=clock, wall_clock=wall_clock)
        self.inbox = LoopInbox()
        self.sources: dict[str, Source] = {}
        self._polled: list[PolledSource] = []
        self.intake = Intake(
            self.submit,
            self.pending_batches,
            self.pipeline.add_calls,
            self.pipeline.receiver,
            self.pipeline.internal_error,
        )
        self._stop_requested = False
        self._flush_requested = False
        self._signals: list[tuple[str, str]] = []  # (signal name, what it asks for), logged by the loop
        self.run_log = RunLog()
        self._started_wall = wall_clock()
        self._stoppers: list[Callable[[], object]] = []
        self._after_final_write: list[Callable[[], object]] = []
        self.watch = LoopWatch(stall_threshold(settings.flush_interval), clock)  # /health: does the loop turn?
        self._stats_sources: dict[str, Callable[[], dict[str, Any]]] = {}
        # Restored for sources not running (yet), checked: carried forward as saved until one is added
        self._saved_sections: dict[str, dict[str, Any]] = {}
        for source in sources:
            self.add_source(source)

    def add_source(self, source: Source) -> None:
        """Start `source` handing records to the loop; its counters are a section of stats.json, and it is
        stopped before the final drain. A source with a descriptor (`PolledSource`) is drained in the loop."""
        saved = self._saved_sections.pop(source.name, None)
        if saved is not None:  # added after the restore (`listen`'s OTLP receiver): it continues before it starts
            source.restore(saved)
        source.start(self.intake)
        self.sources[source.name] = source
        if isinstance(source, PolledSource):
            self._polled.append(source)

    def submit(self, calls: list[ObservedCall]) -> None:
        """Records from another source's thread (the proxy, the OTLP receiver): handled on the loop's thread."""
        self.inbox.put(calls)

    def pending_batches(self) -> int:
        """Batches submitted and not yet taken by the loop (approximate): a source's backpressure signal."""
        return self.inbox.pending()

    def add_stats(self, name: str, source: Callable[[], dict[str, Any]]) -> None:
        """Another part's counters (alerts), in stats.json (and /metrics) under `name` (read at every flush)."""
        self._stats_sources[name] = source

    def observe_flushes(self, observer: FlushObserver) -> None:
        self.writer.observers.append(observer)

    def on_stop(self, stop: Callable[[], object]) -> None:
        """Stop something before the final drain and flush, so nothing it accepted is left out."""
        self._stoppers.append(stop)

    def after_final_write(self, callback: Callable[[], object]) -> None:
        """Called once the stop's final flush is written (the stop watchdog stands down then)."""
        self._after_final_write.append(callback)

    def wake_fd(self) -> int:
        """A descriptor for signal.set_wakeup_fd: a signal then wakes the loop at once."""
        return self.inbox.wake_fd()

    def request_flush(self, signal_name: str | None = None) -> None:
        """Safe in a signal handler: sets flags only; the loop logs `signal_name` and what it wrote."""
        if signal_name:
            self._signals.append((signal_name, "flush"))
        self._flush_requested = True
        self.inbox.wake()

    def request_stop(self, signal_name: str | None = None) -> None:
        if signal_name:
            self._signals.append((signal_name, "stop"))
        self._stop_requested = True
        self.inbox.wake()

    def resume(self) -> None:
        """After a restored state: render everything once and hand it to the publisher (without
        history entries: nothing changed); the files are written at the first flush."""
        self.writer.resumed(self.aggregator, self.render())

    def run(self) -> int:
        """Serve until asked to stop; returns the exit status (0 unless the final write failed)."""
        if self.publisher:
            self.publisher.start()
        schedule = FlushSchedule(
            self.settings.flush_interval, self.clock(), refresh=self.view.refresh if self.view else None
        )
        while not self._stop_requested:
            self.watch.beat()
            now = self.clock()
            readable = self._wait(schedule.next_wake(now) - now)
            arrived = behind = False
            for source in self._polled:
                if source.fileno() in readable:
                    drained = source.drain()
                    arrived |= drained > 0
                    behind |= drained >= DRAIN_LIMIT
            if self.inbox.reader.fileno() in readable:
                self.inbox.clear_wakeups()
                arrived |= self.inbox.take_all(self.pipeline.add_calls)
            now = self.clock()
            for source in self._polled:
                source.tick(now)
            if arrived:
                schedule.arrived(now, behind=behind)
                self.writer.heap.grown(self.aggregator.entries)  # out of later collections as it grows
            ahead = schedule.render_ahead_due(now)
            if ahead:
                complete = self._render_ahead(ahead)
                schedule.rendered_ahead(self.clock(), ahead, complete=complete)
            if self._flush_requested or schedule.flush_due(now):
                self._flush_requested = False
                self.start_flush(
                    self._announced(self._signal_for("flush"), "writing all files now, then collecting on")
                )
                schedule.flushed(self.clock())
            if self.archive:
                self.archive.tick(self.wall_clock())
            if self.view:
                self.view.update(now, self.aggregator, {**self.counters(), **self.runtime_stats()})
        return self._shutdown()

    def _wait(self, timeout: float) -> list[int]:
        """The descriptors readable within `timeout` (the inbox's, the in-loop sources')."""
        descriptors = [self.inbox.reader.fileno(), *(source.fileno() for source in self._polled)]
        readable, _, _ = select.select(descriptors, [], [], max(timeout, 0.0))
        return readable

    def _render_ahead(self, what: RenderAhead) -> bool:
        """Render what changed ahead of the next flush (core.schedule says what and when), in a slice short
        enough that records arriving meanwhile wait at most one slice (the sources' buffers hold them);
        whether all is rendered."""
        deadline = self.clock() + RENDER_AHEAD_SLICE
        clock = self.clock
        return self.renderer.prepare(self.aggregator, lambda: clock() < deadline, state=what == EVERYTHING)

    def _signal_for(self, kind: str) -> str | None:
        names = [name for name, wanted in self._signals if wanted == kind]
        self._signals = [entry for entry in self._signals if entry[1] != kind]
        return names[-1] if names else None

    def _announced(self, signal_name: str | None, doing: str) -> Written | None:
        """For a flush a signal asked for: the log says it was received, and the callback returned logs what
        was written once it is on disk (the writer thread calls it)."""
        if not signal_name:
            return None
        self.run_log.received(signal_name, doing)
        return lambda ok, files, milliseconds: self.run_log.wrote(signal_name, files, milliseconds, ok=ok)

    def _shutdown(self) -> int:
        for source in self.sources.values():
            source.stop()
        for stop in self._stoppers:
            stop()
        for _ in range(MAX_STOP_DRAIN_ROUNDS):  # what was queued; a flood going on cannot hold the stop
            if not sum(source.drain() for source in self._polled):
                break
        self.inbox.take_all(self.pipeline.add_calls)
        if self.archive:
            self.archive.close()  # first: the last stats.json counts what the closed archive holds
        publishing = f", publishing for at most {self.settings.publish_timeout:g}s" if self.publisher else ""
        doing = f"stopping: queued datagrams read, writing the files{publishing}"
        ok = self.flush(self._announced(self._signal_for("stop"), doing))
        self.writer.close()
        for callback in self._after_final_write:
            callback()
        for observer in self.writer.observers:
            observer.close(self.settings.publish_timeout)
        if self.publisher and not self.publisher.stop(self.settings.publish_timeout):
            log.error(
                "%d items not published before the %gs shutdown timeout; local files are complete",
                self.publisher.pending(),
                self.settings.publish_timeout,
            )
        if self.view:
            self.view.update(self.clock(), self.aggregator, {**self.counters(), **self.runtime_stats()}, force=True)
            self.view.close()
        for source in self._polled:
            source.close()
        self.inbox.close()
        return 0 if ok else 1

    def flush(self, on_written: Written | None = None) -> bool:
        """Render what changed and write it (flush_writer), waiting at most FINAL_WRITE_SECONDS for the
        files; whether they were written."""
        return self.writer.wait(self.start_flush(on_written), FINAL_WRITE_SECONDS)

    def start_flush(self, on_written: Written | None = None) -> int:
        """Render what changed and hand it to the writer thread (flush_writer); the ticket to wait for."""
        started = self.writer.begin()
        for source in self._polled:
            source.tick(None)  # records held for later (CSM calls waiting for their attempts): as they are
        if self.archive:
            self.archive.flush()
        counters = self.counters()
        rendered = self.render(counters)  # not kept: the directory keeps the texts it needs, the renderer the rest
        for name in self.sources:
            section = counters[name]
            if "access" in section:  # a running source's access control (CSM's)
                self.run_log.access(section["access"])
        return self.writer.write(self.aggregator, rendered, started, on_written)

    def render(self, counters: dict[str, Any] | None = None) -> Rendered:
        return self.renderer.render(self.aggregator, counters or self.counters(), self.runtime_stats())

    def counters(self) -> dict[str, Any]:
        """What state.json keeps (and stats.json shows): the source-neutral totals, a section per source (one
        not running in this run as a previous run saved it: its records are in the totals)."""
        sections = {**{name: source.stats() for name, source in self.sources.items()}, **self._saved_sections}
        return {**self.pipeline.counters(), **source_totals(sections.values()), **sections}

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a state snapshot: the calls, the totals, and each source's counters, once: a source
        added already continues now (its counters take the saved totals while it counts), one added later
        continues as it is added, before it starts; the section of one never added is carried forward."""
        saved = self.pipeline.restore(state)
        for name in SOURCE_NAMES - self.sources.keys():
            if isinstance(saved.get(name), dict):
                self._saved_sections[name] = saved_section(saved[name])
        for name, source in self.sources.items():
            section = saved.get(name)
            source.restore(section if isinstance(section, dict) else {})
            self.run_log.access_restored(source.stats().get("access"))  # CSM's access control, when on

    def metrics_snapshot(self) -> dict[str, Any]:
        """Counters for the metrics endpoint (read from another thread; plain reads of counters)."""
        return {
            **self.runtime_stats(),
            **self.counters(),
            "workloads": dict.fromkeys(list(self.aggregator.workloads)),
            "loop_seconds_since_turn": round(self.watch.since_turn(), 3),
            "loop_stalled": self.watch.stalled(),
        }

    def runtime_stats(self) -> dict[str, Any]:
        now = self.wall_clock()
        stats: dict[str, Any] = {
            "started_at": iso(self._started_wall),
            "written_at": iso(now),
            "uptime_seconds": round(now - self._started_wall, 3),
            **self.writer.stats(),
        }
        if self.publisher:
            stats["publishing"] = self.publisher.status()
        for name, source in self._stats_sources.items():
            stats[name] = source()
        if self.archive:
            stats["archive"] = self.archive.stats()
        return stats
