"""Who may hold one of the OTLP receiver's connections, and for how long (its defence against slow clients).

Every connection is watched in one of three states: `waiting` for the first byte of its next request (at most
`idle_timeout`), `reading` a request (headers and body: at most `request_timeout` from its first byte, however
slowly the bytes come), or `handling` it (decoded, submitted, answered: never ended from here). Past its
deadline a connection is ended: its socket is shut down, which wakes the thread blocked reading it.

Admission, when a connection arrives: past `per_address` connections from its address, that address's
connection that has been waiting or reading the longest is ended to make room (a client crowds out only itself);
past `max_connections` in all, the one that has been waiting or reading the longest, if it has done so for
`evict_after` seconds (a connection that just started is not sacrificed to a flood of new ones); otherwise the
new connection is refused. So slow clients holding every connection give way to real exporters, whose
requests take milliseconds.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

WAITING, READING, HANDLING = "waiting", "reading", "handling"
DEADLINE, EVICTED = "deadline", "evicted"  # why the receiver ended a connection


class Shuttable(Protocol):
    def shutdown(self, how: int, /) -> None: ...


@dataclass(frozen=True)
class Limits:
    max_connections: int
    per_address: int
    request_timeout: float
    idle_timeout: float
    evict_after: float


@dataclass(eq=False)
class Watch:
    """One connection: its state, since when, until when, and why the receiver ended it (None: it did not)."""

    peer: str
    sock: Shuttable
    state: str
    since: float
    deadline: float
    ended_by: str | None = None


class Connections:
    """The receiver's connections (thread-safe: admitted and reaped by the server thread, moved between states by
    their handler threads)."""

    def __init__(self, limits: Limits, clock: Callable[[], float] = time.monotonic) -> None:
        self.limits = limits
        self.clock = clock
        self._lock = threading.Lock()
        self._watches: dict[Shuttable, Watch] = {}
        self._per_peer: Counter[str] = Counter()

    def __len__(self) -> int:
        return len(self._watches)

    def admit(self, sock: Shuttable, peer: str) -> bool:
        """Watch a new connection, ending another to make room if need be; False: refused (no room)."""
        with self._lock:
            now = self.clock()
            if self._per_peer[peer] >= self.limits.per_address:
                oldest = self._longest_reading(now, peer)
                if oldest is None:
                    return False
                self._end(oldest, EVICTED)
            if len(self._watches) >= self.limits.max_connections:
                oldest = self._longest_reading(now)
                if oldest is None or now - oldest.since < self.limits.evict_after:
                    return False
                self._end(oldest, EVICTED)
            self._watches[sock] = Watch(peer, sock, WAITING, now, now + self.limits.idle_timeout)
            self._per_peer[peer] += 1
            return True

    def watch(self, sock: Shuttable) -> Watch:
        """The watch of an admitted connection (one already ended gets a detached, ended one)."""
        with self._lock:
            found = self._watches.get(sock)
        return found or Watch("", sock, WAITING, 0.0, 0.0, ended_by=EVICTED)

    def waiting(self, watch: Watch) -> None:
        self._move(watch, WAITING, self.limits.idle_timeout)

    def reading(self, watch: Watch) -> None:
        self._move(watch, READING, self.limits.request_timeout)

    def handling(self, watch: Watch) -> bool:
        """The request has been read; False when the connection was ended meanwhile (the request is abandoned)."""
        return self._move(watch, HANDLING, float("inf"))

    def release(self, sock: Shuttable) -> None:
        """The connection is being closed by its handler: never shut down from here after this."""
        with self._lock:
            self._forget(sock)

    def reap(self) -> None:
        """End every connection past its deadline."""
        with self._lock:
            now = self.clock()
            for watch in [w for w in self._watches.values() if w.deadline < now]:
                self._end(watch, DEADLINE)

    def _move(self, watch: Watch, state: str, timeout: float) -> bool:
        with self._lock:
            if watch.ended_by is not None:
                return False
            watch.state, watch.since = state, self.clock()
            watch.deadline = watch.since + timeout
            return True

    def _longest_reading(self, now: float, peer: str | None = None) -> Watch | None:
        candidates = [w for w in self._watches.values() if w.state != HANDLING and (peer is None or w.peer == peer)]
        return min(candidates, key=lambda w: w.since, default=None)

    def _end(self, watch: Watch, why: str) -> None:
        watch.ended_by = why
        self._forget(watch.sock)
        with contextlib.suppress(OSError):  # already closed by the client
            watch.sock.shutdown(socket.SHUT_RDWR)

    def _forget(self, sock: Shuttable) -> None:
        watch = self._watches.pop(sock, None)
        if watch is not None:
            self._per_peer[watch.peer] -= 1
            if not self._per_peer[watch.peer]:
                del self._per_peer[watch.peer]
