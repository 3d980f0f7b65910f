"""One archive file being written (by the archive's writer thread): a gzip stream appended chunk by chunk.

A chunk either reaches the file whole or not at all: when a write fails (full disk, I/O error) the file is
cut back to its last complete chunk, so it stays a valid stream and the next chunk can go on in it. A
file that cannot be cut back is marked `damaged` (its complete chunks are salvaged at the next start, see
archive.salvage_archive_parts).
"""

from __future__ import annotations

import errno
import os
import struct
import zlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

SUFFIX = ".jsonl.gz"
PART_PREFIX = "."
PART_SUFFIX = ".part"


def _create(path: str) -> int:
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC, 0o644)


@dataclass(frozen=True)
class FileCalls:
    """The system calls that put bytes in a file (tests inject failures through them)."""

    open: Callable[[str], int] = _create
    pwrite: Callable[[int, bytes, int], int] = field(default=os.pwrite)
    truncate: Callable[[int, int], None] = field(default=os.ftruncate)


_GZIP_HEADER = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x00\x03"  # deflate, no name, no time, Unix
_FINAL_BLOCK = b"\x03\x00"  # an empty last deflate block (fixed Huffman), from a byte boundary


class ArchiveFile:
    """One archive file being written: a gzip stream fed by the writer thread, chunk by chunk.

    The compressor is raw deflate (the header and trailer are written here) and every chunk ends with a
    full flush: on a byte boundary and with no reference to an earlier chunk's data. So a chunk that could
    not be written is simply cut off, the next one follows the last complete one, the checksum covers what
    the file holds, and a file cut short by a crash stays readable up to its last chunk."""

    def __init__(self, final: Path, level: int, calls: FileCalls) -> None:
        self.final = final
        self.part = final.with_name(PART_PREFIX + final.name + PART_SUFFIX)
        self.calls = calls
        final.parent.mkdir(parents=True, exist_ok=True)
        self.fd = calls.open(str(self.part))
        self.compressor = zlib.compressobj(level, zlib.DEFLATED, -15)
        self.size = 0  # bytes of complete chunks: the file is readable up to here
        self.damaged = False  # a failed chunk could not be cut off: left for salvage
        self.finish_failed = False
        self._sealed = False  # the last block and trailer are written
        self._crc = 0  # of the uncompressed data in the file
        self._length = 0

    def write(self, data: bytes) -> None:
        """Append one chunk, or raise with the file as it was before it."""
        self._append(self.compressor.compress(data) + self.compressor.flush(zlib.Z_FULL_FLUSH))
        self._crc = zlib.crc32(data, self._crc)
        self._length += len(data)

    def finish(self) -> Path:
        """Seal, sync, close and show the file; raises at the step that failed (calling it again resumes)."""
        if not self._sealed:
            self._append(_FINAL_BLOCK + struct.pack("<II", self._crc, self._length & 0xFFFFFFFF))
            self._sealed = True
        if self.fd >= 0:
            os.fsync(self.fd)
            self.close()
        self.part.replace(self.final)
        return self.final

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def _append(self, data: bytes) -> None:
        if self.size == 0:
            data = _GZIP_HEADER + data
        written = 0
        try:
            while written < len(data):
                count = self.calls.pwrite(self.fd, data[written:], self.size + written)
                if count <= 0:
                    raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
                written += count
        except OSError:
            try:
                self.calls.truncate(self.fd, self.size)
            except OSError:
                self.damaged = True
            raise
        self.size += len(data)


_REASONS = {  # errno -> the reason events are counted as dropped for
    errno.ENOSPC: "disk_full",
    errno.EDQUOT: "disk_full",
    errno.EROFS: "not_writable",
    errno.EACCES: "not_writable",
    errno.EPERM: "not_writable",
    errno.EIO: "io_error",
}


def drop_reason(error: Exception) -> str:
    return _REASONS.get(getattr(error, "errno", None) or 0, "write_error")
