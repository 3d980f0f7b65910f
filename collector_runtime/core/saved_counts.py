"""Counters as a previous run saved them in state.json, checked before a restart adds them: the top-level
ones, each source's, and the whole section of a source not running in this run (carried forward). Pure.

state.json is read back from disk or S3: a corrupt or hostile file must not stop the restore (the calls it
holds matter more than a counter) nor leak into /metrics, where reasons become label values. A value that is
not a count is left out, and so is a reason that is not a short plain name, past the first MAX_REASONS.
"""

from __future__ import annotations

import re
from typing import Any

from .records import CSM, OTLP, PROXY

MAX_COUNT = 2**63 - 1  # what a 64-bit counter holds (JSON integers are unbounded)
MAX_REASONS = 64  # each source has a fixed handful of reasons
MAX_SECTION_ENTRIES = 64  # a source has a few dozen counters
SOURCE_NAMES = frozenset({CSM, OTLP, PROXY})  # the sections of state.json that are a source's
_PLAIN_NAME = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def parsed_count(value: Any) -> int | None:
    """A saved counter as an int (an integral float or digits coerced, as JSON writers may); None when it is
    not a count (negative, too large, a bool, another type)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return None
    try:
        count = int(value)
    except (ValueError, OverflowError):  # "many", inf, nan, more digits than int() reads
        return None
    return count if 0 <= count <= MAX_COUNT else None


def saved_count(value: Any) -> int:
    """A saved counter as an int; 0 when it is not a count."""
    return parsed_count(value) or 0


def is_plain_name(value: Any) -> bool:
    """A short name of letters, digits and underscores: safe as a key, a /metrics label value or name part."""
    return isinstance(value, str) and _PLAIN_NAME.match(value) is not None


def saved_reasons(value: Any) -> dict[str, int]:
    """Saved counts by reason: the well-formed entries of a JSON object, at most MAX_REASONS of them."""
    if not isinstance(value, dict):
        return {}
    reasons: dict[str, int] = {}
    for reason, count in value.items():
        if len(reasons) == MAX_REASONS:
            break
        if is_plain_name(reason) and (number := saved_count(count)):
            reasons[reason] = number
    return reasons


def saved_section(value: Any) -> dict[str, Any]:
    """A saved section kept as it is, checked: its counts, and its counts by reason (`*_reasons`), under
    plain names; anything else (an odd key or value, another nested part such as CSM's `access`) is left
    out. It always has the `records_received` and `rejected` that the totals sum."""
    section: dict[str, Any] = {}
    for name, saved in value.items() if isinstance(value, dict) else ():
        if len(section) == MAX_SECTION_ENTRIES:
            break
        if not is_plain_name(name):
            continue
        if name.endswith("_reasons"):
            section[name] = saved_reasons(saved)
        elif (count := parsed_count(saved)) is not None:
            section[name] = count
    return {**section, "records_received": section.get("records_received", 0), "rejected": section.get("rejected", 0)}
