"""The source-neutral part of stats.json: the time stamps, and the totals summed over the sources' sections."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).isoformat(timespec="seconds")


def source_totals(sections: Iterable[dict[str, Any]]) -> dict[str, int]:
    """`records_received` and `rejected`, over every source (each reports them in its own section)."""
    received = rejected = 0
    for section in sections:
        received += int(section.get("records_received", 0))
        rejected += int(section.get("rejected", 0))
    return {"records_received": received, "rejected": rejected}


def source_sections(counters: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Each source's section of the counters (the parts that report `records_received`), by name, sorted."""
    return {
        name: section
        for name, section in sorted(counters.items())
        if isinstance(section, dict) and "records_received" in section
    }
