"""The output directory's files, written on a thread of their own so that the loop goes on reading.

A flush hands its rendered texts (immutable strings) over and returns: the loop is held only for the
hand-over. One thread writes, so writes never overlap: texts handed over while a write runs are merged
(the latest text of each path wins) and written in the next round, right after it. Inside a round the
directory's order holds (state.json first and fsync'd, policies, stats.json last). A round that fails
keeps its files pending in the directory, written again with the next flush's round.
"""

from __future__ import annotations

import logging
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from ..core.rendering import FileChanges
from .output_dir import OutputDirectory

log = logging.getLogger("csm_collector")
Token = TypeVar("Token")
# While a round writes, the interpreter's switch interval (5 ms by default): each of the 4 system calls per
# file gives the GIL away, and a busy loop would make the writer wait up to an interval to get it back at
# each. A thread that only ever runs Python (the worst case for the loop) made 300 files take 2.6x their
# time alone at 5 ms, 1.8x at 0.5 ms, 1.2x at 0.1 ms (the busy thread's rate unchanged within the noise).
WRITING_SWITCH_INTERVAL = 0.0001


@dataclass(frozen=True)
class WriteRound(Generic[Token]):
    """One round of writes: the flushes it wrote for (their tokens, oldest first) and how it went."""

    tokens: list[Token]
    files_written: int
    files_pending: int  # what the round left unwritten (0 unless it failed)
    error: OSError | None


class WriteBehind(Generic[Token]):
    def __init__(self, directory: OutputDirectory, finished: Callable[[WriteRound[Token]], None]) -> None:
        """`finished` is called on the writer's thread after each round, before waiters are woken."""
        self.directory = directory
        self._finished = finished
        self._changed = threading.Condition()
        self._incoming: FileChanges = {}
        self._tokens: list[Token] = []
        self._handed = 0  # hand-overs so far; a ticket is the count at its hand-over
        self._done = 0  # hand-overs whose round has finished
        self._written_through = 0  # the last ticket a round wrote without failing: it and all before are on disk
        self._closed = False
        self._thread: threading.Thread | None = None

    def stage(self, files: FileChanges) -> None:
        """Files to write with the next round, without asking for one (a restored state's)."""
        with self._changed:
            self._incoming.update(files)

    def hand_over(self, files: FileChanges, token: Token) -> int:
        """Queue `files` for writing; returns the ticket `wait` takes."""
        with self._changed:
            self._incoming.update(files)
            self._tokens.append(token)
            self._handed += 1
            ticket = self._handed
            if self._thread is None:  # the first hand-over, or one after `close` (the stop watchdog's)
                self._thread = threading.Thread(target=self._run, name="output-writer", daemon=True)
                self._thread.start()
            self._changed.notify_all()
        return ticket

    def wait(self, ticket: int, timeout: float) -> bool | None:
        """Whether the files of hand-over `ticket` are on disk once its round finished; None if it did
        not finish within `timeout` seconds."""
        with self._changed:
            if not self._changed.wait_for(lambda: self._done >= ticket, timeout):
                return None
            return self._written_through >= ticket

    def close(self) -> None:
        """No more hand-overs: the thread ends once what was handed over is written."""
        with self._changed:
            self._closed = True
            self._changed.notify_all()

    def _run(self) -> None:
        while True:
            with self._changed:
                self._changed.wait_for(lambda: self._handed > self._done or self._closed)
                if self._handed == self._done:
                    self._thread = None
                    return
                files, self._incoming = self._incoming, {}
                tokens, self._tokens = self._tokens, []
                ticket = self._handed
            interval = sys.getswitchinterval()
            sys.setswitchinterval(min(interval, WRITING_SWITCH_INTERVAL))
            try:
                written = self._write(files, tokens)
            finally:
                sys.setswitchinterval(interval)
            try:
                self._finished(written)
            except Exception:  # a bug there must not end the thread either
                log.exception("after writing to %s", self.directory.root)
            with self._changed:
                self._done = ticket
                if written.error is None:
                    self._written_through = ticket
                self._changed.notify_all()

    def _write(self, files: FileChanges, tokens: list[Token]) -> WriteRound[Token]:
        self.directory.update(files)
        error: OSError | None = None
        written = 0
        try:
            written = self.directory.write()
        except OSError as failure:
            error = failure
        except Exception as failure:  # a bug must not end the thread (every later flush would wait on it)
            log.exception("writing to %s failed", self.directory.root)
            error = OSError(str(failure))
        return WriteRound(tokens, written, self.directory.pending_files, error)
