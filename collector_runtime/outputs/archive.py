"""The raw-event archive: every observed call (the source-neutral record), in gzip-compressed JSON lines.

Files roll by size, by age and at UTC midnight, under Hive-style partitions
(`dt=YYYY-MM-DD/<collector>-<UTC time>-<seq>.jsonl.gz`) that Athena's partition projection and
DuckDB's hive_partitioning read directly. A file being written is hidden (`.<name>.part`); a rolled
file is handed to `on_rolled` (the publisher uploads it and then removes it) or simply stays.

Records hold no secrets (sources drop them before a record exists). Intake only serialises (a couple
of microseconds per call); compression and writing run in a background thread (zlib releases the
GIL), so the archive costs little on the intake thread. A file a crash cut short is salvaged at the
next start (`salvage_archive_parts`): every complete line it holds is kept.

A write error (full disk, read-only directory, I/O error) costs the chunk being written, never the file:
the file is cut back to its last complete chunk (chunks do not refer to each other), the
events are counted as dropped (with a reason), and the next chunk is tried again (a file that could not
be created is created at the next chunk; one that could not be cut back is left for salvage and a fresh
one started). `events_archived` counts only what reached a file, so stats.json never claims more.
"""

from __future__ import annotations

import datetime as dt
import errno
import gzip
import logging
import os
import queue
import threading
import time
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.json_codec import dumps_bytes
from ..core.records import ObservedCall, call_as_dict
from ..limits import ARCHIVE_FILE_MAX_BYTES, ARCHIVE_FILE_MAX_SECONDS
from .archive_file import PART_PREFIX, PART_SUFFIX, SUFFIX, ArchiveFile, FileCalls, drop_reason

log = logging.getLogger("csm_collector")

CHUNK_LINES = 2_000
MAX_BACKLOG_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class ArchiveOptions:
    directory: Path
    collector_id: str
    max_bytes: int = ARCHIVE_FILE_MAX_BYTES  # uncompressed
    max_seconds: float = ARCHIVE_FILE_MAX_SECONDS
    level: int = 1  # zlib: fast; CSM JSON still compresses ~5x


class ArchiveWriter:
    def __init__(
        self,
        options: ArchiveOptions,
        *,
        on_rolled: Callable[[Path], None] | None = None,
        clock: Callable[[], float] = time.time,
        calls: FileCalls | None = None,
    ) -> None:
        self.options = options
        self.on_rolled = on_rolled
        self.clock = clock
        self.calls = calls or FileCalls()
        self.events_archived = 0  # in a file (the writer thread counts them once written)
        self.files_rolled = 0
        self.errors = 0
        self._dropped_backlog = 0  # the intake thread's count
        self._dropped: dict[str, int] = {}  # the writer thread's: reason -> events
        self._dropped_in_outage = 0
        self._current: ArchiveFile | None = None  # the writer thread's file
        self._next_path: Path | None = None  # the file to create at the next chunk
        self._fresh = 0  # files started after one that could not be cut back
        self._unfinished: list[ArchiveFile] = []  # rolled, not finished yet (a full disk): retried
        self._lines: list[bytes] = []
        self._bytes = 0
        self._opened_at: float | None = None
        self._day: str | None = None
        self._sequence = 0
        self._run = os.urandom(3).hex()  # a restart within the same second never reuses a file name
        self._queue: queue.SimpleQueue[tuple[str, Any]] = queue.SimpleQueue()
        self._queued_bytes = 0  # approximate (two threads update it): only bounds the backlog
        self._thread = threading.Thread(target=self._work, name="csm-archive", daemon=True)
        self._thread.start()

    # --- intake thread ----------------------------------------------------------------------------

    def append(self, calls: list[ObservedCall]) -> None:
        if self._opened_at is None:
            self._open(self.clock())
        lines = self._lines
        for call in calls:
            line = dumps_bytes(call_as_dict(call))
            lines.append(line)
            self._bytes += len(line) + 1
        if len(lines) >= CHUNK_LINES:
            self._hand_over_chunk()
        if self._bytes >= self.options.max_bytes:
            self.roll()

    @property
    def events_dropped(self) -> int:
        return self._dropped_backlog + sum(self._dropped.copy().values())

    @property
    def dropped_reasons(self) -> dict[str, int]:
        reasons = self._dropped.copy()
        if self._dropped_backlog:
            reasons["backlog"] = self._dropped_backlog
        return reasons

    def stats(self) -> dict[str, Any]:
        """Its section of stats.json."""
        return {
            "events_archived": self.events_archived,
            "events_dropped": self.events_dropped,
            "dropped_reasons": self.dropped_reasons,
            "files_rolled": self.files_rolled,
            "write_errors": self.errors,
        }

    def flush(self) -> None:
        """Hand what is buffered to the writer thread (the collector calls this at every flush)."""
        self._hand_over_chunk()

    def tick(self, now: float) -> None:
        """Roll by age or at UTC midnight; called from the collector's loop."""
        if self._opened_at is None:
            return
        if now - self._opened_at >= self.options.max_seconds or _day(now) != self._day:
            self.roll()

    def roll(self) -> None:
        if self._opened_at is None:
            return
        self._hand_over_chunk()
        self._queue.put(("finish", None))
        self._opened_at = None

    def close(self, timeout: float = 30.0) -> None:
        self.roll()
        self._queue.put(("stop", None))
        self._thread.join(timeout)

    def _open(self, now: float) -> None:
        self._sequence += 1
        self._day = _day(now)
        stamp = dt.datetime.fromtimestamp(now, tz=dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        name = f"{self.options.collector_id}-{stamp}-{self._run}-{self._sequence:06d}{SUFFIX}"
        self._queue.put(("open", self.options.directory / f"dt={self._day}" / name))
        self._opened_at = now
        self._bytes = 0

    def _hand_over_chunk(self) -> None:
        """Queue the buffered lines for the writer thread; if it is far behind (a stalled disk),
        drop them from the archive and count it rather than stall intake."""
        if not self._lines:
            return
        count = len(self._lines)
        self._lines.append(b"")
        chunk = b"\n".join(self._lines)
        self._lines = []
        if self._queued_bytes > MAX_BACKLOG_BYTES:
            self._dropped_backlog += count
            if self._dropped_backlog == count:
                log.error("archive: the writer is behind (slow or full disk); dropping events from the archive")
            return
        self._queued_bytes += len(chunk)
        self._queue.put(("write", (chunk, count)))

    # --- writer thread ----------------------------------------------------------------------------

    def _work(self) -> None:
        while True:
            command, payload = self._queue.get()
            if command == "open":
                self._next_path, self._fresh = payload, 0
            elif command == "write":
                chunk, count = payload
                self._queued_bytes -= len(chunk)
                self._write(chunk, count)
                self._finish_unfinished()
            elif command == "finish":
                if self._current is not None:
                    self._unfinished.append(self._current)
                self._current = self._next_path = None
                self._finish_unfinished()
            elif command == "stop":
                for left in self._unfinished:  # their chunks stay in the hidden files: salvaged at the next start
                    left.close()
                return

    def _write(self, chunk: bytes, count: int) -> None:
        """Write one chunk to the current file (created if needed); what fails is dropped and counted."""
        try:
            if self._current is None and self._next_path is not None:
                self._current = ArchiveFile(self._next_path, self.options.level, self.calls)
            if self._current is None:
                raise OSError(errno.EBADF, "no archive file")  # not reached: `open` precedes every chunk
            self._current.write(chunk)
        except Exception as error:  # a failed write must not end the writer thread: count, log, go on
            self._failed(error, count)
            self._abandon_damaged()
            return
        self.events_archived += count
        if self._dropped_in_outage:
            log.warning("archive: writing works again after %d events dropped", self._dropped_in_outage)
            self._dropped_in_outage = 0

    def _finish_unfinished(self) -> None:
        """Finish the rolled files (oldest first); one that cannot be finished now is tried again at the next
        chunk or roll (one that cannot be finished at all is salvaged at the next start)."""
        while self._unfinished:
            oldest = self._unfinished[0]
            try:
                path = oldest.finish()
            except Exception as error:
                self.errors += 1
                if oldest.damaged:
                    oldest.close()
                    self._unfinished.pop(0)
                    log.error("archive: cannot finish %s (%s); salvaged at the next start", oldest.part, error)
                    continue
                if not oldest.finish_failed:
                    log.error("archive: cannot finish %s (%s); trying again at every chunk", oldest.part, error)
                oldest.finish_failed = True
                return
            self._unfinished.pop(0)
            self.files_rolled += 1
            if self.on_rolled is not None:
                self.on_rolled(path)

    def _failed(self, error: Exception, count: int) -> None:
        self.errors += 1
        reason = drop_reason(error)
        self._dropped[reason] = self._dropped.get(reason, 0) + count
        if not self._dropped_in_outage:
            where = self._current.part if self._current else self._next_path
            log.error(
                "archive: cannot write %s (%s); dropping events from the archive (archive.events_dropped, "
                "reason %s) and trying again at every chunk",
                where,
                error,
                reason,
            )
        self._dropped_in_outage += count

    def _abandon_damaged(self) -> None:
        """A file a failed chunk could not be cut off from keeps its complete chunks for salvage at the next
        start; the next chunk goes to a fresh file."""
        current = self._current
        if current is None or not current.damaged:
            return
        current.close()
        self._current = None
        self._fresh += 1
        self._next_path = current.final.with_name(f"{current.final.name.removesuffix(SUFFIX)}-{self._fresh}{SUFFIX}")


def _day(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y-%m-%d")


def pending_files(directory: Path) -> list[Path]:
    """Rolled archive files still on disk (e.g. not uploaded before a restart), oldest first."""
    if not directory.exists():
        return []
    return sorted(directory.glob(f"dt=*/*{SUFFIX}"), key=lambda p: (p.parent.name, p.name))


def salvage_archive_parts(directory: Path) -> list[Path]:
    """Archive files a crash cut short: keep every complete line they hold as a proper file."""
    salvaged = []
    for part in sorted(directory.glob(f"dt=*/{PART_PREFIX}*{PART_SUFFIX}")):
        final = part.with_name(part.name[len(PART_PREFIX) : -len(PART_SUFFIX)])
        data = _complete_lines(part.read_bytes())
        if data:
            final.write_bytes(gzip.compress(data, compresslevel=1))
            salvaged.append(final)
        part.unlink()
        log.warning("archive: salvaged %s (%d bytes of complete lines)", final.name, len(data))
    return salvaged


def _complete_lines(compressed: bytes) -> bytes:
    decompressor = zlib.decompressobj(31)
    try:
        data = decompressor.decompress(compressed)
    except zlib.error:
        data = b""
    return data[: data.rfind(b"\n") + 1]
