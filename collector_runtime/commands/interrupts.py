"""Ctrl-C while the package or an optional dependency loads is acted on once loading is done (a moment
later): an interrupt in the middle of a C extension's initialisation can crash the interpreter (orjson 3.13
does: SIGSEGV instead of exit 130). Everywhere else, Ctrl-C is a KeyboardInterrupt that `cli` maps."""

from __future__ import annotations

import signal
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def interrupts_deferred() -> Iterator[None]:
    """SIGINT blocked in this thread for the block, then delivered (raised here) if it came meanwhile."""
    if not hasattr(signal, "pthread_sigmask"):  # pragma: no cover - not POSIX
        yield
        return
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)
