"""The OTLP receiver's counters: requests, spans and refusals, written by its threads, read by the loop.

Every span of every accepted request is counted once, as an AWS SDK call (`aws_spans`, each one
record), another span (`spans_ignored`: HTTP servers, the function itself, messaging spans without
`rpc.system`) or an AWS SDK span in a form it cannot read (`spans_rejected`, by reason in `rejected_reasons`:
`no_operation`, `no_service`, `bad_name`); a request
that is refused is counted under its reason. In stats.json under `otlp`; a restart continues them (state.json).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from ...core.saved_counts import MAX_REASONS, saved_count, saved_reasons

_COUNTERS = ("requests_accepted", "bytes_received", "aws_spans", "spans_ignored", "spans_rejected")


class OtlpCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests_accepted = 0
        self.bytes_received = 0
        self.aws_spans = 0
        self.spans_ignored = 0
        self.spans_rejected = 0
        self.refused_reasons: dict[str, int] = {}
        self.rejected_reasons: dict[str, int] = {}  # a fixed handful of reasons: bounded

    def accepted(
        self, size: int, aws_spans: int, ignored: int, rejected: int, *, unreadable: Mapping[str, int] | None = None
    ) -> None:
        """`unreadable`: the rejected spans by reason (spans.NO_OPERATION, NO_SERVICE, BAD_NAME)."""
        with self._lock:
            self.requests_accepted += 1
            self.bytes_received += size
            self.aws_spans += aws_spans
            self.spans_ignored += ignored
            self.spans_rejected += rejected
            for reason, count in (unreadable or {}).items():
                self.rejected_reasons[reason] = self.rejected_reasons.get(reason, 0) + count

    def refused(self, reason: str) -> int:
        """Count one refused request (or connection); returns how many of this reason so far."""
        with self._lock:
            count = self.refused_reasons[reason] = self.refused_reasons.get(reason, 0) + 1
        return count

    def add(self, saved: Mapping[str, Any]) -> None:
        """Continue from totals saved by `as_dict` (a restart); what is not a count is left out. Under the
        lock, like every update: the receiver's threads may be counting already."""
        with self._lock:
            for name in _COUNTERS:
                setattr(self, name, getattr(self, name) + saved_count(saved.get(name, 0)))
            for name in ("refused_reasons", "rejected_reasons"):
                reasons: dict[str, int] = getattr(self, name)
                for reason, count in saved_reasons(saved.get(name)).items():
                    if reason in reasons or len(reasons) < MAX_REASONS:
                        reasons[reason] = reasons.get(reason, 0) + count

    def as_dict(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests_accepted": self.requests_accepted,
                "requests_refused": sum(self.refused_reasons.values()),
                "refused_reasons": dict(sorted(self.refused_reasons.items())),
                "bytes_received": self.bytes_received,
                "spans_received": self.aws_spans + self.spans_ignored + self.spans_rejected,
                "aws_spans": self.aws_spans,
                "spans_ignored": self.spans_ignored,
                "spans_rejected": self.spans_rejected,
                "rejected_reasons": dict(sorted(self.rejected_reasons.items())),
            }
