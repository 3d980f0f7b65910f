"""The raw-event archive: every observed call (the source-neutral record), in gzip-compressed JSON lines.

Files roll by size, by age and at UTC midnight, under Hive-style partitions
(`dt=YYYY-MM-DD/<collector>-<UTC time>-<seq>.jsonl.gz`) that Athena's partition projection and
DuckDB's hive_partitioning read directly. A file being written is hidden (`.<name>.part`); a rolled
file is handed to `on_rolled` (the publisher uploads it and then removes it) or simply stays.

Records hold no secrets (sources drop them before a record exists). Intake only serialises (a couple
of microseconds per call); compression and writing run in a background thread (zlib releases the
GIL), so the archive costs little on the intake thread. A file a crash cut short is salvaged at the
next start (`salvage_archive_parts`): every complete line it holds is kept.
"""

from __future__ import annotations

import datetime as dt
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

from ..core.jsonio import dumps_bytes
from ..core.records import ObservedCall, call_as_dict

log = logging.getLogger("csm_collector")

CHUNK_LINES = 2_000
MAX_BACKLOG_BYTES = 128 * 1024 * 1024
SUFFIX = ".jsonl.gz"
PART_PREFIX = "."
PART_SUFFIX = ".part"


@dataclass(frozen=True)
class ArchiveOptions:
    directory: Path
    collector_id: str
    max_bytes: int = 64 * 1024 * 1024  # uncompressed
    max_seconds: float = 300.0
    level: int = 1  # zlib: fast; CSM JSON still compresses ~5x


class _File:
    """One archive file being written: a gzip stream fed by the writer thread."""

    def __init__(self, final: Path, level: int) -> None:
        self.final = final
        self.part = final.with_name(PART_PREFIX + final.name + PART_SUFFIX)
        final.parent.mkdir(parents=True, exist_ok=True)
        self.handle = self.part.open("wb")
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, 31)  # wbits 31: gzip container

    def write(self, data: bytes) -> None:
        # A sync flush ends each chunk on a byte boundary: a file cut short by a crash stays readable
        # up to its last chunk (see salvage_archive_parts).
        self.handle.write(self.compressor.compress(data) + self.compressor.flush(zlib.Z_SYNC_FLUSH))
        self.handle.flush()

    def finish(self) -> Path:
        self.handle.write(self.compressor.flush())
        self.handle.flush()
        os.fsync(self.handle.fileno())
        self.handle.close()
        self.part.replace(self.final)
        return self.final


class ArchiveWriter:
    def __init__(
        self,
        options: ArchiveOptions,
        *,
        on_rolled: Callable[[Path], None] | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.options = options
        self.on_rolled = on_rolled
        self.clock = clock
        self.events_archived = 0
        self.files_rolled = 0
        self.errors = 0
        self.events_dropped = 0
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
        self.events_archived += len(calls)
        if len(lines) >= CHUNK_LINES:
            self._hand_over_chunk()
        if self._bytes >= self.options.max_bytes:
            self.roll()

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
            self.events_dropped += count
            if self.events_dropped == count:
                log.error("archive: the writer is behind (slow or full disk); dropping events from the archive")
            return
        self._queued_bytes += len(chunk)
        self._queue.put(("write", chunk))

    # --- writer thread ----------------------------------------------------------------------------

    def _work(self) -> None:
        current: _File | None = None
        while True:
            command, payload = self._queue.get()
            try:
                if command == "open":
                    current = _File(payload, self.options.level)
                elif command == "write":
                    self._queued_bytes -= len(payload)
                    if current is not None:
                        current.write(payload)
                elif command == "finish" and current is not None:
                    self._finished(current.finish())
                    current = None
                elif command == "stop":
                    return
            except Exception as error:  # a failed write must not end the writer thread: count, log once, go on
                self.errors += 1
                if self.errors == 1:
                    log.error("archive: cannot write %s: %s", getattr(current, "part", "?"), error)
                current = None

    def _finished(self, path: Path) -> None:
        self.files_rolled += 1
        if self.on_rolled is not None:
            self.on_rolled(path)


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
