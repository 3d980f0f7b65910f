"""The CSM source as the loop sees it: a UDP socket drained on the loop's thread, each batch of queued
datagrams decoded into observed calls by `CsmDecoder` and handed to the pipeline in the same function call
(the hot path)."""

from __future__ import annotations

from typing import Any

from ..source import Intake, Receive
from ..source_filter import SourceFilter
from .decoder import CsmDecoder
from .udp import UdpListener


class CsmSource:
    name = "csm"

    def __init__(
        self,
        listener: UdpListener | None = None,
        source_filter: SourceFilter | None = None,
        *,
        decoder: CsmDecoder | None = None,
    ) -> None:
        """Without a listener, datagrams come through `receive` (replay, tests)."""
        self.listener = listener
        self.source_filter = source_filter
        self.decoder = decoder or CsmDecoder()
        self.receive: Receive = self._not_started
        self._drain = self._nothing
        self._intake: Intake | None = None
        self._listener_stats: dict[str, Any] | None = None

    @property
    def address(self) -> tuple[str, int]:
        if self.listener is None:
            raise RuntimeError("this CSM source has no UDP listener")
        return self.listener.address

    def start(self, intake: Intake) -> None:
        self._intake = intake
        self.receive = intake.receiver(self.decoder.feed)
        if self.listener is not None:
            accepts = self.source_filter.accepts if self.source_filter else None
            self._drain = self.listener.drainer(intake.receiver(self.decoder.feed_batch), accepts)

    def fileno(self) -> int:
        return self.listener.fileno() if self.listener is not None else -1

    def drain(self) -> int:
        return self._drain()

    def tick(self, now: float | None) -> None:
        """Calls held for attempts that did not come in time (None: every one)."""
        assert self._intake is not None
        try:
            calls = self.decoder.release_held(now)
        except Exception:
            self._intake.failed()
            return
        if calls:
            self._intake.add(calls)

    def stats(self) -> dict[str, Any]:
        counters = self.decoder.counters
        stats: dict[str, Any] = {
            "records_received": counters.datagrams_received,
            "rejected": counters.events_rejected,
            **counters.as_dict(),
        }
        if self.listener is not None:
            stats.update(self._listener_stats or self.listener.stats())
        if self.source_filter is not None:
            stats["access"] = self.source_filter.counters.as_dict()
        return stats

    def restore(self, saved: dict[str, Any]) -> None:
        self.decoder.counters.add(saved)
        if self.source_filter is not None:  # what access control refused before goes on too
            self.source_filter.counters.add(saved.get("access"))

    def stop(self) -> None:
        """Nothing to stop: the loop drains the socket once more, then closes it."""

    def close(self) -> None:
        if self.listener is not None:
            self._listener_stats = self.listener.stats()  # as it was last: stats are read after the stop
            self.listener.close()

    @staticmethod
    def _not_started(data: bytes) -> None:
        raise RuntimeError("the CSM source is not started")

    @staticmethod
    def _nothing() -> int:
        return 0
