"""Atomic file writes: a reader sees the old file or the new one, never a torn one."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path


def atomic_write(path: Path, text: str, *, durable: bool = True, mode: int | None = None) -> None:
    """Write `text` to `path` via a temporary file in the same directory and a rename.

    `durable` also fsyncs the file before the rename, so the new content survives a power loss.
    """
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(text)
            handle.flush()
            if durable:
                os.fsync(handle.fileno())
        tmp = Path(tmp_name)
        if mode is not None:
            tmp.chmod(mode)
        tmp.replace(path)
    except BaseException:
        Path(tmp_name).unlink(missing_ok=True)
        raise
