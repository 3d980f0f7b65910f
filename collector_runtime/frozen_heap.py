"""Long-lived state kept out of the garbage collector's way, without keeping garbage for good.

After each flush, what survived is mostly long-lived state (workloads, usages, caches): `gc.freeze()` moves it
out of every later collection, whose pauses would otherwise grow with it (a full collection over a million live
objects takes ~80 ms, long enough for a burst of datagrams to overflow a small receive buffer). But a freeze
also keeps the cyclic garbage waiting for a collection at that moment, and every object alive then that becomes
cyclic garbage later (a proxy's or an OTLP client's connection open at a flush, a response the publisher was
reading): frozen objects are never collected. So once FULL_COLLECTION_SECONDS have passed since the last full
collection, a flush unfreezes, collects everything and freezes again: frozen garbage lives that long at most,
and the full collection's pause comes once in that time (in that flush's `previous_flush_ms`).

Between flushes the state also grows: a fresh collector under a stream learns thousands of operations before its
first flush, and the first full collection then scans all of them in one pause (20-45 ms, some 6,000 datagrams
at 200,000/s, which a receive buffer already filling cannot take). So the loop also freezes each time the state
has grown by a quarter (`grown`): a full collection then scans at most what came since, and the freezes are few
(the state only grows, and each one needs a quarter more).
"""

from __future__ import annotations

import gc

FULL_COLLECTION_SECONDS = 600.0
FREEZE_AFTER_ENTRIES = 1_000  # the least growth worth a freeze (entries: operations and scopes kept)


class FrozenHeap:
    def __init__(self, now: float) -> None:
        self._last_full = now
        self._frozen_entries = 0

    def after_flush(self, now: float) -> None:
        """Freeze what survived the flush at `now` (a monotonic clock), after a full collection when one is due."""
        if now - self._last_full >= FULL_COLLECTION_SECONDS:
            gc.unfreeze()
            gc.collect()
            self._last_full = now
        gc.freeze()

    def grown(self, entries: int) -> None:
        """The state now holds `entries` (never fewer than before): freeze it once it has grown by a quarter, and
        by at least FREEZE_AFTER_ENTRIES, since the last freeze."""
        if entries - self._frozen_entries >= max(FREEZE_AFTER_ENTRIES, self._frozen_entries // 4):
            gc.freeze()
            self._frozen_entries = entries
