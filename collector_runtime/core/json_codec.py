"""The package's one JSON helper: orjson when it is installed (several times faster on the intake and
flush paths), else the standard library, with the same output either way (UTF-8, two-space indent)."""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson

    loads: Any = orjson.loads
    DECODE_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError, TypeError)

    def dumps_bytes(data: Any) -> bytes:
        """Compact, no trailing newline (archive lines, SSM values, sizes)."""
        return orjson.dumps(data)

    def dumps_compact(data: Any) -> str:
        """Compact, one line, with a trailing newline (state.json)."""
        return str(orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE), "utf-8")

    def dumps_pretty(data: Any) -> str:
        """Indented by two spaces, with a trailing newline (policies, stats.json, reports)."""
        return str(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE), "utf-8")

except ImportError:  # pragma: no cover - exercised where orjson is absent
    loads = json.loads
    DECODE_ERRORS = (ValueError, TypeError, RecursionError)

    def dumps_bytes(data: Any) -> bytes:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False).encode()

    def dumps_compact(data: Any) -> str:
        return json.dumps(data, separators=(",", ":"), ensure_ascii=False) + "\n"

    def dumps_pretty(data: Any) -> str:
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
