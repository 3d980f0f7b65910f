"""`csm-collector ARGS` with a CSM handler that gets stuck for good on a datagram containing `stall-here`:
the stand-in for any bug or input that stalls the service loop (tests/test_loop_watch.py)."""

from __future__ import annotations

import sys
import time
from typing import Any

from collector_runtime.commands.cli import main
from collector_runtime.pipeline import Pipeline

_original = Pipeline.receiver


def _stalling(self: Pipeline, decode: Any) -> Any:
    receive = _original(self, decode)

    def stalling(data: Any) -> None:  # a datagram, or a batch of them (bytes or memoryviews)
        receive(data)
        batch = data if isinstance(data, list) else [data]
        while any(b"stall-here" in bytes(datagram) for datagram in batch):  # never returns
            time.sleep(0.05)

    return stalling


Pipeline.receiver = _stalling  # type: ignore[method-assign]

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
