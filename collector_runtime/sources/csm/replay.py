"""The replay source: captured CSM datagrams (JSON lines, optionally gzip-compressed; '-' is stdin),
fed one by one to the same pipeline as the live collector, producing the same output files."""

from __future__ import annotations

import gzip
import io
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import BinaryIO

from ...errors import BadInput
from ...input_files import capture_lines

GZIP_MAGIC = b"\x1f\x8b"


class ReplayError(BadInput):
    """An input that cannot be read (exit 2); the message names it."""


def open_capture(name: str, stdin: BinaryIO) -> BinaryIO:
    if name == "-":
        raw: BinaryIO = stdin
    else:
        try:
            raw = Path(name).open("rb")  # noqa: SIM115 - closed by replay() once read
        except OSError as error:
            raise ReplayError(f"cannot read {name}: {error.strerror or error}") from error
    peek = raw.peek(2)[:2] if isinstance(raw, io.BufferedReader) else b""
    if name.endswith(".gz") or peek == GZIP_MAGIC:
        return gzip.GzipFile(fileobj=raw)  # type: ignore[return-value]
    return raw


def replay(names: Iterable[str], receive: Callable[[bytes], None], stdin: BinaryIO) -> int:
    """Hand every datagram of every capture to `receive`; returns how many were read."""
    count = 0
    for name in names:
        stream = open_capture(name, stdin)
        try:
            for datagram in capture_lines(stream, name):  # bounded: lines, line length, decompressed size
                receive(datagram)
                count += 1
        except (OSError, EOFError, gzip.BadGzipFile) as error:
            raise ReplayError(f"cannot read {name}: {error}") from error
        finally:
            if name != "-":
                stream.close()
    return count
