"""Files a command reads, with bounded work: size, JSON nesting, and a capture's lines and decompressed
size are limited (collector_runtime/limits.py). Past a limit the file is bad input (exit 2, one line naming
it), never a traceback nor minutes of work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

from .core.json_codec import DECODE_ERRORS, loads
from .errors import BadInput
from .limits import (
    MAX_CAPTURE_BYTES,
    MAX_CAPTURE_LINE_BYTES,
    MAX_CAPTURE_LINES,
    MAX_JSON_DEPTH,
    MAX_JSON_FILE_BYTES,
)

_CHUNK = 1 << 20


def read_limited(path: Path, max_bytes: int = MAX_JSON_FILE_BYTES) -> bytes:
    """The bytes of `path`; BadInput past `max_bytes` (OSError as it is: callers name what they read)."""
    with path.open("rb") as file:
        data = file.read(max_bytes + 1)
    if len(data) > max_bytes:
        raise BadInput(f"{path} is larger than {max_bytes:,} bytes")
    return data


def json_document(data: str | bytes, where: str, max_bytes: int = MAX_JSON_FILE_BYTES) -> Any:
    """The JSON value in `data`; BadInput (naming `where`) if it is none, too large or nested too deeply."""
    if len(data) > max_bytes:
        raise BadInput(f"{where} is larger than {max_bytes:,} bytes")
    try:
        value = loads(data)
    except RecursionError as error:  # the standard library's parser recurses per level
        raise BadInput(f"{where} nests deeper than {MAX_JSON_DEPTH} levels") from error
    except DECODE_ERRORS as error:
        if "depth limit" in str(error) or "recursion" in str(error):  # orjson refuses over 1,024 levels
            raise BadInput(f"{where} nests deeper than {MAX_JSON_DEPTH} levels") from error
        raise BadInput(f"{where} is not JSON: {error}") from error
    if nesting_depth(value) > MAX_JSON_DEPTH:
        raise BadInput(f"{where} nests deeper than {MAX_JSON_DEPTH} levels")
    return value


def nesting_depth(value: Any) -> int:
    """How deeply arrays and objects nest in `value` (a scalar: 0); iterative, so any depth is safe."""
    deepest, stack = 0, [(value, 1)]
    while stack:
        item, depth = stack.pop()
        children = item.values() if isinstance(item, dict) else item if isinstance(item, list) else None
        if children is None:
            continue
        deepest = max(deepest, depth)
        if depth <= MAX_JSON_DEPTH:  # deeper than the limit: no need to look further down
            stack.extend((child, depth + 1) for child in children)
    return deepest


def capture_lines(stream: BinaryIO, name: str) -> Iterator[bytes]:
    """The non-blank lines of a capture (without their line ends), read in chunks; BadInput past the
    limits on its decompressed size, its number of lines or the length of one line."""
    read = getattr(stream, "read1", stream.read)  # read1: what a slow pipe has, without waiting for a full chunk
    total = lines = 0
    pending = b""
    while chunk := read(_CHUNK):
        total += len(chunk)
        lines += chunk.count(b"\n")
        if total > MAX_CAPTURE_BYTES:
            raise BadInput(f"{name} holds more than {MAX_CAPTURE_BYTES:,} bytes (decompressed)")
        if lines > MAX_CAPTURE_LINES:
            raise BadInput(f"{name} holds more than {MAX_CAPTURE_LINES:,} lines")
        parts = (pending + chunk).split(b"\n")
        pending = parts.pop()
        if len(pending) > MAX_CAPTURE_LINE_BYTES:
            raise BadInput(f"{name} has a line longer than {MAX_CAPTURE_LINE_BYTES:,} bytes")
        for line in parts:
            if line.strip():
                if len(line) > MAX_CAPTURE_LINE_BYTES:
                    raise BadInput(f"{name} has a line longer than {MAX_CAPTURE_LINE_BYTES:,} bytes")
                yield line.rstrip(b"\r")
    if pending.strip():
        yield pending.rstrip(b"\r")
