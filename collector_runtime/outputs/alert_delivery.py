"""Delivering alerts to one sink from a background thread: a bounded queue, retries with backoff.

Intake never waits for a target: `offer` only appends to a bounded queue; when it is full the event is
dropped and counted (`overflow`). A batch that fails is retried with exponential backoff until it has
been pending for `retry_window` seconds, then dropped and counted (`expired`); meanwhile new events
queue behind it, so nothing is lost while a target is down for less than the window.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from collections.abc import Callable
from typing import Any

from .alert_sinks import DeliveryError, Event, Sink

log = logging.getLogger("csm_collector")
MAX_BATCH = 100
FIRST_BACKOFF, MAX_BACKOFF = 0.5, 30.0


class Delivery:
    def __init__(
        self,
        sink: Sink,
        *,
        max_queue: int = 10_000,
        retry_window: float = 600.0,
        first_backoff: float = FIRST_BACKOFF,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.sink = sink
        self.retry_window = retry_window
        self.first_backoff = first_backoff
        self.clock = clock
        self._queue: queue.Queue[Event] = queue.Queue(max_queue)
        self._stop = threading.Event()
        self._failing = False
        self._pending_batch = 0
        self.counts = dict.fromkeys(("sent", "overflow", "failed_attempts", "retried", "expired"), 0)
        self._thread = threading.Thread(target=self._run, name=f"csm-alerts-{sink.name}", daemon=True)
        self._thread.start()

    def offer(self, event: Event) -> bool:
        try:
            self._queue.put_nowait(event)
        except queue.Full:
            self.counts["overflow"] += 1
            return False
        return True

    def status(self) -> dict[str, Any]:
        return {**self.counts, "pending": self._queue.qsize() + self._pending_batch, "in_outage": self._failing}

    def close(self, timeout: float) -> bool:
        """Deliver what is queued for at most `timeout` seconds; True if nothing is left."""
        deadline = self.clock() + timeout
        while self.status()["pending"] and self.clock() < deadline and self._thread.is_alive():
            time.sleep(0.02)
        self._stop.set()
        return not self.status()["pending"]

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                batch = [self._queue.get(timeout=0.2)]
            except queue.Empty:
                continue
            while len(batch) < MAX_BATCH:
                try:
                    batch.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            self._deliver(batch)

    def _deliver(self, batch: list[Event]) -> None:
        started, backoff = self.clock(), self.first_backoff
        self._pending_batch = len(batch)
        while batch:
            try:
                left = self.sink.send(batch)
            except DeliveryError as error:
                left = batch
                self._note_failure(str(error))
            except Exception as error:  # a sink's bug must not end delivery
                left = batch
                self._note_failure(f"{self.sink.name}: unexpected {type(error).__name__}")
            if not left and self._failing:  # before the counts: a reader that sees all sent sees the outage over
                log.warning("alerts: delivery to %s works again", self.sink.name)
                self._failing = False
            self.counts["sent"] += len(batch) - len(left)
            batch = left
            self._pending_batch = len(batch)
            if not batch:
                break
            if self.clock() - started >= self.retry_window or self._stop.is_set():
                self.counts["expired"] += len(batch)
                log.error(
                    "alerts: %d events to %s dropped after %gs of retries",
                    len(batch),
                    self.sink.name,
                    self.retry_window,
                )
                break
            self.counts["retried"] += 1
            self._stop.wait(backoff)
            backoff = min(backoff * 2, MAX_BACKOFF)
        self._pending_batch = 0

    def _note_failure(self, message: str) -> None:
        self.counts["failed_attempts"] += 1
        if not self._failing:
            log.warning("alerts: %s (retrying with backoff)", message)
            self._failing = True
