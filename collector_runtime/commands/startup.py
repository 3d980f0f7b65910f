"""What a command checks about this machine when it starts, not when its options are built: the output
and archive directories can be created and written, and the collector's id falls back on the host name.
Each failure is a StartupError (exit 1, one line)."""

from __future__ import annotations

import os
import socket
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import TypeVar

from ..errors import StartupError
from ..settings import CollectorOptions
from ..settings.values import collector_id

Collector = TypeVar("Collector", bound=CollectorOptions)


def writable_directory(path: Path, what: str = "output directory") -> Path:
    """The output (or archive) directory, created if needed; StartupError if it cannot be created or
    written. Writing is tried (a file created and removed), not guessed from permission bits: root passes
    those, and a read-only or special file system or an ACL can still refuse."""
    try:
        path.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StartupError(f"cannot create the {what} {path}: {error.strerror or error}") from error
    try:
        descriptor, probe = tempfile.mkstemp(prefix=".csm-collector-write-check-", dir=path)
        os.close(descriptor)
        Path(probe).unlink()
    except OSError as error:
        raise StartupError(f"cannot write to the {what} {path}: {error.strerror or error}") from error
    return path


def started_collector(options: Collector) -> Collector:
    """A running collector's directories checked (the archive's at start, not at the first event: it would
    stay off all along), and its id: the given one or the host name."""
    writable_directory(options.output.output_dir)
    if options.archive:
        writable_directory(options.archive_directory, "archive directory")
    return replace(options, collector_id=options.collector_id or collector_id(socket.gethostname()))
