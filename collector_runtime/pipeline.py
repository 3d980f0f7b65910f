"""Where sources meet the core: observed calls into the aggregator and the archive, nothing lost silently.

Every source hands its records to one `Pipeline`; an unexpected exception while handling one
datagram (or one batch of records) is counted and logged once with its traceback, and never ends
the caller: the next datagram is handled as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

from .core.aggregate import Aggregator
from .core.records import ObservedCall
from .core.state import restore
from .sources.csm.decoder import CsmDecoder

log = logging.getLogger("csm_collector")
ArchiveSink = Callable[[list[ObservedCall]], None]


class Pipeline:
    def __init__(self, aggregator: Aggregator, *, csm: CsmDecoder | None = None, archive: ArchiveSink | None = None):
        self.aggregator = aggregator
        self.csm = csm or CsmDecoder()
        self.archive = archive
        self.internal_errors = 0

    def receive_datagram(self, data: bytes) -> None:
        """One CSM datagram (the listener's hot path)."""
        try:
            calls = self.csm.feed(data)
            if calls:
                add = self.aggregator.add
                for call in calls:
                    add(call)
                if self.archive is not None:
                    self.archive(calls)
        except Exception:
            self._internal_error()

    def release_held(self, now: float | None) -> None:
        """CSM calls held for attempts that did not come in time (`now`: a monotonic clock; None: all)."""
        try:
            calls = self.csm.release_held(now)
        except Exception:
            self._internal_error()
            return
        if calls:
            self.add_calls(calls)

    def add_calls(self, calls: Iterable[ObservedCall]) -> None:
        """Records from any other source."""
        try:
            batch = list(calls)
            for call in batch:
                self.aggregator.add(call)
            if batch and self.archive is not None:
                self.archive(batch)
        except Exception:
            self._internal_error()

    def _internal_error(self) -> None:
        self.internal_errors += 1
        if self.internal_errors == 1:
            log.exception("internal error while handling an event (counted as internal_errors; intake goes on)")

    def counters(self) -> dict[str, Any]:
        """Every counter, as stats.json and state.json keep them."""
        return {
            **self.csm.counters.as_dict(),
            **self.aggregator.stats.as_dict(),
            "internal_errors": self.internal_errors,
        }

    def restore(self, state: dict[str, Any]) -> None:
        """Continue from a state snapshot: the calls, and the counters' totals."""
        counters = restore(self.aggregator, state)
        self.csm.counters.add(counters)
        self.internal_errors += int(counters.get("internal_errors", 0))
        self.aggregator.take_notices()  # restored actions are not news for the live view
