"""The benchmark's start-up split: the kernel's drop counter of a real overflowing socket, sampled over time."""

from __future__ import annotations

import socket
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "bench"))
from receivers import DropWatch, udp_drops


def test_drops_are_split_by_when_they_came() -> None:
    with (
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sink,
        socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as source,
    ):
        sink.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # never read: it overflows at once
        sink.bind(("127.0.0.1", 0))
        port = sink.getsockname()[1]
        with DropWatch(port) as watch:
            deadline = time.monotonic() + 30
            while not watch.samples and time.monotonic() < deadline:  # a sample taken before anything is sent
                time.sleep(DropWatch.SAMPLE_SECONDS)
            early = watch.samples[-1][0]
            for _ in range(200):
                source.sendto(b"x" * 1000, ("127.0.0.1", port))
            time.sleep(3 * DropWatch.SAMPLE_SECONDS)
        dropped = udp_drops(port)
    assert dropped and dropped > 100
    assert watch.dropped_within(early) == 0
    assert watch.dropped_within(60.0) == dropped
