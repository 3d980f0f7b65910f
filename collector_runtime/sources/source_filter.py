"""Who may send (a filter in front of the CSM source): an allow-list of source networks and a per-source rate limit.

Checked per datagram before parsing, so an unwanted sender costs a dictionary lookup. Decisions are
cached per source address (bounded); the rate limit is a token bucket per source, and when the
table of sources is full, every further source shares one bucket: a sender that sprays source
addresses only competes with itself, never evicts or drowns the known senders.
"""

from __future__ import annotations

import ipaddress
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ..core.saved_counts import saved_count

MAX_SOURCES = 10_000
_SHARED = "*"


@dataclass
class FilterCounters:
    not_allowed: int = 0
    rate_limited: int = 0

    def as_dict(self) -> dict[str, int]:
        return {"dropped_not_allowed": self.not_allowed, "dropped_rate_limited": self.rate_limited}

    def add(self, saved: Any) -> None:
        """Continue from totals saved by `as_dict` (a restart); what is not a count is left out."""
        if isinstance(saved, dict):
            self.not_allowed += saved_count(saved.get("dropped_not_allowed", 0))
            self.rate_limited += saved_count(saved.get("dropped_rate_limited", 0))


class SourceFilter:
    def __init__(
        self,
        *,
        allow: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] | None = None,
        rate: float | None = None,
        burst: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.allow = list(allow) if allow else None
        self.rate = rate
        self.burst = burst if burst is not None else (rate or 0.0)
        self.clock = clock
        self.counters = FilterCounters()
        self._allowed: dict[str, bool] = {}
        self._buckets: dict[str, list[float]] = {}  # source -> [tokens, last refill time]

    def accepts(self, source: str) -> bool:
        if self.allow is not None and not self._is_allowed(source):
            self.counters.not_allowed += 1
            return False
        if self.rate is not None and not self._take_token(source):
            self.counters.rate_limited += 1
            return False
        return True

    def _is_allowed(self, source: str) -> bool:
        known = self._allowed.get(source)
        if known is None:
            address = ipaddress.ip_address(source.split("%", 1)[0])
            if address.version == 6 and address.ipv4_mapped:  # dual-stack sockets report IPv4 as ::ffff:a.b.c.d
                address = address.ipv4_mapped
            known = any(address in network for network in self.allow or [])
            if len(self._allowed) >= MAX_SOURCES:
                self._allowed.clear()
            self._allowed[source] = known
        return known

    def _take_token(self, source: str) -> bool:
        now = self.clock()
        bucket = self._buckets.get(source)
        if bucket is None:
            key = source if len(self._buckets) < MAX_SOURCES else _SHARED
            bucket = self._buckets.setdefault(key, [self.burst, now])
        tokens = min(self.burst, bucket[0] + (now - bucket[1]) * (self.rate or 0.0))
        bucket[1] = now
        if tokens < 1.0:
            bucket[0] = tokens
            return False
        bucket[0] = tokens - 1.0
        return True
