"""A source's counters as a previous run saved them in state.json, checked before a restart adds them. Pure.

state.json is read back from disk or S3: a corrupt or hostile file must not stop the restore (the calls it
holds matter more than a counter) nor leak into /metrics, where reasons become label values. A value that is
not a count is left out, and so is a reason that is not a short plain name, past the first MAX_REASONS.
"""

from __future__ import annotations

import re
from typing import Any

MAX_COUNT = 2**63 - 1  # what a 64-bit counter holds (JSON integers are unbounded)
MAX_REASONS = 64  # each source has a fixed handful of reasons
_REASON = re.compile(r"^[A-Za-z0-9_]{1,64}$")


def saved_count(value: Any) -> int:
    """A saved counter as an int (an integral float or digits coerced, as JSON writers may); 0 when it is
    not a count (negative, too large, a bool, another type)."""
    if isinstance(value, bool) or not isinstance(value, int | float | str):
        return 0
    try:
        count = int(value)
    except (ValueError, OverflowError):  # "many", inf, nan, more digits than int() reads
        return 0
    return count if 0 <= count <= MAX_COUNT else 0


def saved_reasons(value: Any) -> dict[str, int]:
    """Saved counts by reason: the well-formed entries of a JSON object, at most MAX_REASONS of them."""
    if not isinstance(value, dict):
        return {}
    reasons: dict[str, int] = {}
    for reason, count in value.items():
        if len(reasons) == MAX_REASONS:
            break
        if isinstance(reason, str) and _REASON.match(reason) and (number := saved_count(count)):
            reasons[reason] = number
    return reasons
