"""Atomic file writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import os
from pathlib import Path

_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_CLOEXEC


def atomic_write(path: Path | str, text: str, *, durable: bool = True, mode: int | None = None) -> None:
    """Write `text` to `path` via a temporary file in the same directory and a rename.

    `durable` also fsyncs the file before the rename, so the new content survives a power loss.
    The temporary name is fixed (`.<name>.tmp`): callers must not write the same path concurrently.
    Plain string paths on purpose: this runs for every policy file at every flush.
    """
    target = os.fspath(path)
    directory, name = os.path.split(target)
    tmp = os.path.join(directory, f".{name}.tmp")
    try:
        fd = os.open(tmp, _FLAGS, 0o644 if mode is None else mode)
    except FileNotFoundError:
        os.makedirs(directory or ".", exist_ok=True)
        fd = os.open(tmp, _FLAGS, 0o644 if mode is None else mode)
    try:
        try:
            view = memoryview(text.encode("utf-8"))
            while view:
                view = view[os.write(fd, view) :]
            if durable:
                os.fsync(fd)
        finally:
            os.close(fd)
        if mode is not None:
            os.chmod(tmp, mode)  # O_CREAT's mode is filtered by the umask; an explicit mode is meant as given
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
