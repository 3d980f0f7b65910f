"""Where sources meet the core: observed calls into the aggregator and the archive, nothing lost silently.

Every source hands its records to one `Pipeline`, which knows no particular source; an unexpected
exception while handling one datagram (or one batch of records) is counted and logged once with its
traceback, and never ends the caller: the next datagram is handled as usual.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any, TypeVar

from .core.aggregate import Aggregator
from .core.records import ObservedCall
from .core.saved_state import parse_state
from .core.state import merge
from .sources.source import Intake

log = logging.getLogger("csm_collector")
ArchiveSink = Callable[[list[ObservedCall]], None]
_Input = TypeVar("_Input")


class Pipeline:
    def __init__(self, aggregator: Aggregator, *, archive: ArchiveSink | None = None):
        self.aggregator = aggregator
        self.archive = archive
        self.internal_errors = 0

    def receiver(self, decode: Callable[[_Input], list[ObservedCall]]) -> Callable[[_Input], None]:
        """The hot path of an in-loop source: `decode` an input (a datagram, or a batch of them), then its
        calls into the aggregator and the archive, in one function (the names it uses bound once)."""
        add_all = self.aggregator.add_all
        archive = self.archive
        internal_error = self.internal_error

        def receive(data: _Input) -> None:
            try:
                calls = decode(data)
                if calls:
                    add_all(calls)
                    if archive is not None:
                        archive(calls)
            except Exception:
                internal_error()

        return receive

    def add_calls(self, calls: Iterable[ObservedCall]) -> None:
        """A batch of records from any source."""
        try:
            batch = list(calls)
            self.aggregator.add_all(batch)
            if batch and self.archive is not None:
                self.archive(batch)
        except Exception:
            self.internal_error()

    def internal_error(self) -> None:
        """Count (and log the first) unexpected exception; call it from an `except` block."""
        self.internal_errors += 1
        if self.internal_errors == 1:
            log.exception("internal error while handling an event (counted as internal_errors; intake goes on)")

    def counters(self) -> dict[str, Any]:
        """The source-neutral counters, as stats.json and state.json keep them at the top."""
        return {**self.aggregator.stats.as_dict(), "internal_errors": self.internal_errors}

    def restore(self, state: dict[str, Any]) -> dict[str, Any]:
        """Continue from a state snapshot, all of it or nothing (ValueError, before anything is merged): the
        calls, and the counters' totals (one that is not a count is left out, and logged); returns the saved
        counters (each source's section in them, for the source to continue from)."""
        saved = parse_state(state)
        merge(self.aggregator, saved)
        self.internal_errors += saved.internal_errors
        if saved.left_out:
            log.warning(
                "state: saved counters left out, not counts: %s (the calls are restored)", ", ".join(saved.left_out)
            )
        if saved.scopes_left_out or saved.calls_left_out:
            log.warning(
                "state: left out %d saved scopes whose region no region could have (such as *) and %d calls left "
                "with no scope: restored, they would grant more than was observed",
                saved.scopes_left_out,
                saved.calls_left_out,
            )
        self.aggregator.take_notices()  # restored actions are not news for the live view
        return saved.counters


def offline_intake(pipeline: Pipeline) -> Intake:
    """An intake straight into `pipeline`, without a loop (replay, and tests feeding datagrams)."""
    return Intake(pipeline.add_calls, lambda: 0, pipeline.add_calls, pipeline.receiver, pipeline.internal_error)
