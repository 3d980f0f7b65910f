"""Long-lived state kept out of the garbage collector's way, without keeping garbage for good.

After each flush, what survived is mostly long-lived state (workloads, usages, caches): `gc.freeze()` moves it
out of every later collection, whose pauses would otherwise grow with it (a full collection over a million live
objects takes ~80 ms, long enough for a burst of datagrams to overflow a small receive buffer). But a freeze
also keeps the cyclic garbage waiting for a collection at that moment, and every object alive then that becomes
cyclic garbage later (a proxy's or an OTLP client's connection open at a flush, a response the publisher was
reading): frozen objects are never collected. So once FULL_COLLECTION_SECONDS have passed since the last full
collection, a flush unfreezes, collects everything and freezes again: frozen garbage lives that long at most,
and the full collection's pause comes once in that time (in that flush's `previous_flush_ms`).
"""

from __future__ import annotations

import gc

FULL_COLLECTION_SECONDS = 600.0


class FrozenHeap:
    def __init__(self, now: float) -> None:
        self._last_full = now

    def after_flush(self, now: float) -> None:
        """Freeze what survived the flush at `now` (a monotonic clock), after a full collection when one is due."""
        if now - self._last_full >= FULL_COLLECTION_SECONDS:
            gc.unfreeze()
            gc.collect()
            self._last_full = now
        gc.freeze()
