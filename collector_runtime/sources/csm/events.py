"""What a well-formed CSM event is (the checks every datagram's events pass), and what the CSM source
counts. Pure: untrusted values in, a reason or a clean value out, never an exception."""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from ...core.names import MAX_WORKLOAD
from ...core.saved_counts import saved_count, saved_reasons
from .fields import CsmEvent

API_CALL, API_CALL_ATTEMPT = "ApiCall", "ApiCallAttempt"
MAX_NAME = 128
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1  # JSON integers are unbounded; the records keep 64-bit ones
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")


@dataclass(slots=True)
class CsmCounters:
    """What the CSM source counts; kept in stats.json and state.json under these names."""

    datagrams_received: int = 0
    bytes_received: int = 0
    events_parsed: int = 0
    events_rejected: int = 0
    rejected_reasons: Counter[str] = field(default_factory=Counter)
    api_call_events: int = 0
    api_call_attempt_events: int = 0
    s3_calls_without_bucket: int = 0  # path-style S3: the host names no bucket (scoped to arn:aws:s3:::*)
    api_calls_before_attempts: int = 0  # calls that came before their attempts (held until joined)
    api_calls_unjoined: int = 0  # held calls released without an attempt (no account or bucket from one)

    def reject(self, reason: str) -> None:
        self.events_rejected += 1
        self.rejected_reasons[reason] += 1

    def as_dict(self) -> dict[str, Any]:
        return {
            "datagrams_received": self.datagrams_received,
            "bytes_received": self.bytes_received,
            "events_parsed": self.events_parsed,
            "events_rejected": self.events_rejected,
            "rejected_reasons": dict(sorted(self.rejected_reasons.items())),
            "api_call_events": self.api_call_events,
            "api_call_attempt_events": self.api_call_attempt_events,
            "s3_calls_without_bucket": self.s3_calls_without_bucket,
            "api_calls_before_attempts": self.api_calls_before_attempts,
            "api_calls_unjoined": self.api_calls_unjoined,
        }

    def add(self, saved: dict[str, Any]) -> None:
        """Continue from totals saved by `as_dict` (a restart); what is not a count is left out."""
        for name in _COUNTERS:
            setattr(self, name, getattr(self, name) + saved_count(saved.get(name, 0)))
        self.rejected_reasons.update(saved_reasons(saved.get("rejected_reasons")))


_COUNTERS = (
    "datagrams_received",
    "bytes_received",
    "events_parsed",
    "events_rejected",
    "api_call_events",
    "api_call_attempt_events",
    "s3_calls_without_bucket",
    "api_calls_before_attempts",
    "api_calls_unjoined",
)


def invalid_reason(event: CsmEvent) -> str | None:
    """None for a well-formed ApiCall/ApiCallAttempt event, else the reason to reject it."""
    if event.Type not in (API_CALL, API_CALL_ATTEMPT):
        return "invalid_fields"
    client_id = event.ClientId
    if not (is_name(event.Service) and is_name(event.Api)):
        return "invalid_fields"
    if not isinstance(client_id, str) or len(client_id) > MAX_WORKLOAD:
        return "invalid_fields"
    return None


def is_name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME and _NAME.match(value) is not None


def integer(value: Any) -> int | None:
    if type(value) is not int:  # bool is an int subclass: not a status or a timestamp
        return None
    return value if INT64_MIN <= value <= INT64_MAX else None


def short_str(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]
