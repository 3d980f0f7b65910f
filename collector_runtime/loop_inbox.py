"""How other threads and signal handlers reach the collector's loop without touching its state: records
queued for it, and a socket pair whose readable end wakes the loop's select()."""

from __future__ import annotations

import contextlib
import queue
import socket
from collections.abc import Callable

from .core.records import ObservedCall


class LoopInbox:
    def __init__(self) -> None:
        self.reader, self._writer = socket.socketpair()
        self.reader.setblocking(False)
        self._writer.setblocking(False)
        self._queue: queue.SimpleQueue[list[ObservedCall]] = queue.SimpleQueue()
        self._woken = False  # a wake-up for queued batches is on its way and `take_all` has not begun since

    def wake(self) -> None:
        """Safe in a signal handler and from any thread."""
        with contextlib.suppress(OSError):  # already awake (buffer full), or shutting down
            self._writer.send(b"\0")

    def wake_fd(self) -> int:
        """A descriptor for signal.set_wakeup_fd: a signal then wakes the loop at once."""
        return self._writer.fileno()

    def put(self, calls: list[ObservedCall]) -> None:
        """Queue a batch, waking the loop only if no wake-up is on its way already: one send() per batch would
        cost its thread a round trip through the GIL (the loop takes every batch queued before `take_all`)."""
        self._queue.put(calls)
        if not self._woken:
            self._woken = True
            self.wake()

    def pending(self) -> int:
        """Batches put and not yet taken (approximate)."""
        return self._queue.qsize()

    def take_all(self, handle: Callable[[list[ObservedCall]], object]) -> bool:
        """Hand every queued batch to `handle` (on the loop's thread); whether there were any."""
        received = False
        self._woken = False  # before draining: a batch put from here on wakes the loop again
        while True:
            try:
                calls = self._queue.get_nowait()
            except queue.Empty:
                return received
            handle(calls)
            received = True

    def clear_wakeups(self) -> None:
        """One read: a wake-up byte is sent per turn at most, bar signals (bytes left only make the loop turn
        again), and a read until empty ends in an exception, one more system call in every turn of the loop."""
        with contextlib.suppress(OSError):
            self.reader.recv(4096)

    def close(self) -> None:
        self.reader.close()
        self._writer.close()
