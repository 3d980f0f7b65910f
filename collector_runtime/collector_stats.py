"""What the running collector reports of its parts in stats.json and /metrics, beside the pipeline's counters."""

from __future__ import annotations

import datetime as dt
from typing import Any

from .outputs.archive import ArchiveWriter
from .sources.csm.udp import UdpListener
from .sources.source_filter import SourceFilter


def iso(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).isoformat(timespec="seconds")


def udp_stats(listener: UdpListener, requested_buffer: int) -> dict[str, Any]:
    host, port = listener.address
    return {
        "listening_on": f"{host}:{port}",
        "receive_buffer_requested": requested_buffer,
        "receive_buffer_granted": listener.granted_buffer,
        "receive_buffer_usable": listener.usable_buffer,
        "kernel_receive_drops": listener.kernel_drops(),
    }


def access_stats(source_filter: SourceFilter) -> dict[str, int]:
    return {
        "dropped_not_allowed": source_filter.counters.not_allowed,
        "dropped_rate_limited": source_filter.counters.rate_limited,
    }


def archive_stats(archive: ArchiveWriter) -> dict[str, Any]:
    return {
        "events_archived": archive.events_archived,
        "events_dropped": archive.events_dropped,
        "dropped_reasons": archive.dropped_reasons,
        "files_rolled": archive.files_rolled,
        "write_errors": archive.errors,
    }
