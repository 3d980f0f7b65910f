"""The OTLP receiver's counters: requests, spans and refusals, written by its threads, read by the loop.

Every span of every accepted request is counted once, as an AWS SDK call (`aws_spans`, each one
record), another span (`spans_ignored`: HTTP servers, the function itself, messaging spans without
`rpc.system`) or an AWS SDK span without a usable service or operation (`spans_rejected`); a request
that is refused is counted under its reason. Per run, in stats.json under `otlp`.
"""

from __future__ import annotations

import threading
from typing import Any


class OtlpCounters:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.requests_accepted = 0
        self.bytes_received = 0
        self.aws_spans = 0
        self.spans_ignored = 0
        self.spans_rejected = 0
        self.refused_reasons: dict[str, int] = {}

    def accepted(self, size: int, aws_spans: int, ignored: int, rejected: int) -> None:
        with self._lock:
            self.requests_accepted += 1
            self.bytes_received += size
            self.aws_spans += aws_spans
            self.spans_ignored += ignored
            self.spans_rejected += rejected

    def refused(self, reason: str) -> int:
        """Count one refused request (or connection); returns how many of this reason so far."""
        with self._lock:
            count = self.refused_reasons[reason] = self.refused_reasons.get(reason, 0) + 1
        return count

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
            }
