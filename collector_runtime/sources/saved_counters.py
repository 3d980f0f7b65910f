"""A source's counters as a previous run saved them in state.json, checked before a restart adds them. Pure.

The checks themselves are core.saved_counts' (the top-level counters are checked the same way); this adds
the check of a whole section, for a source not running in this run (its section is carried forward).
"""

from __future__ import annotations

from typing import Any

from ..core.records import CSM, OTLP, PROXY
from ..core.saved_counts import MAX_COUNT, MAX_REASONS, is_plain_name, parsed_count, saved_count, saved_reasons

__all__ = ["MAX_COUNT", "MAX_REASONS", "SOURCE_NAMES", "saved_count", "saved_reasons", "saved_section"]

MAX_SECTION_ENTRIES = 64  # a source has a few dozen counters
SOURCE_NAMES = frozenset({CSM, OTLP, PROXY})  # the sections of state.json that are a source's


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
