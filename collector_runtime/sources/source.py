"""What every source is to the collector's loop: started with an `Intake`, its counters as a section of
stats.json, stopped before the final drain. Two ways to hand records over:

- a thread source (the proxy, the OTLP receiver) serves on its own threads and calls `intake.submit`
  with batches: they wait in the loop's inbox and are handled on the loop's thread;
- an in-loop source (CSM's UDP socket) is a `PolledSource`: the loop selects on its descriptor and calls
  `drain`, which decodes on the loop's thread through `intake.receiver` (no queue, no thread hop).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar, runtime_checkable

from ..core.records import ObservedCall

# What one `drain` reads at most, so that one source cannot keep the loop from the others, its timers and its
# flushes; a drain that read this many left more queued: the loop is behind its stream.
DRAIN_LIMIT = 10_000
Submit = Callable[[list[ObservedCall]], None]
Receive = Callable[[bytes], None]
_Input = TypeVar("_Input")


class Receiver(Protocol):
    def __call__(self, decode: Callable[[_Input], list[ObservedCall]], /) -> Callable[[_Input], None]:
        """A path that decodes an input (a datagram, a batch of them) and adds its calls, in one call."""


@dataclass(frozen=True, slots=True)
class Intake:
    """How a source hands records to the loop (the pipeline behind it knows no particular source)."""

    submit: Submit  # any thread: queued in the loop's inbox, handled on the loop's thread
    backlog: Callable[[], int]  # batches submitted and not yet taken: a thread source's backpressure signal
    add: Submit  # the loop's thread only: records handled at once
    receiver: Receiver  # the loop's thread only: a per-datagram (or per-batch) path decoding then adding
    failed: Callable[[], None]  # the loop's thread only: an unexpected exception, counted and logged once


class Source(Protocol):
    name: str  # its section in stats.json and state.json

    def start(self, intake: Intake) -> None:
        """Begin handing records to `intake` (a thread source starts its threads here)."""

    def stats(self) -> dict[str, Any]:
        """Its section of stats.json: `records_received` and `rejected` (summed at the top), and its own."""

    def restore(self, saved: dict[str, Any]) -> None:
        """Continue its counters from the section a previous run saved in state.json."""

    def stop(self) -> None:
        """Accept nothing more (before the final drain and flush); what it accepted is handed over."""


@runtime_checkable
class PolledSource(Source, Protocol):
    """A source drained on the loop's thread when its descriptor is readable."""

    def fileno(self) -> int: ...

    def drain(self) -> int:
        """Read what is queued without blocking, at most DRAIN_LIMIT items; how many were read."""

    def tick(self, now: float | None) -> None:
        """Hand over records held for later (`now`: a monotonic clock; None: every one, at a flush)."""

    def close(self) -> None: ...
