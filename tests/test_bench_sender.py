"""The benchmark's sender sends exactly what it reports, in the pool's order, across batch boundaries and the
pool's end, with sendmmsg and where the C library has none (counts only: no timing is asserted)."""

from __future__ import annotations

import itertools
import socket
from collections.abc import Iterator

import pytest

from bench import sender


def received(sink: socket.socket) -> list[bytes]:
    datagrams = []
    sink.setblocking(False)
    while True:
        try:
            datagrams.append(sink.recv(65_535))
        except BlockingIOError:
            return datagrams


@pytest.fixture
def sink() -> Iterator[socket.socket]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
    sock.bind(("127.0.0.1", 0))
    yield sock
    sock.close()


@pytest.fixture(params=["sendmmsg", "send"])
def system_call(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "send":  # where the C library has no sendmmsg
        monkeypatch.setattr(sender, "batch_sender", lambda sock, pool: None)
    return str(request.param)


POOL = [b"%d:" % n + b"x" * (n * 37 % 1_400) for n in range(300)]  # sizes vary, like the bench's stream


@pytest.mark.timeout(60)
def test_flat_out_it_sends_exactly_the_limit_in_the_pools_order(sink: socket.socket, system_call: str) -> None:
    limit = 2 * len(POOL) + 37  # batches of MAX_BATCH, cut at the pool's end, and a short last one
    assert limit % sender.MAX_BATCH and len(POOL) % sender.MAX_BATCH
    sent = sender.send_paced(sink.getsockname()[1], POOL, 0, 60.0, limit=limit)
    assert (sent.datagrams, sent.system_call) == (limit, system_call)
    assert received(sink) == list(itertools.islice(itertools.cycle(POOL), limit))


@pytest.mark.timeout(60)
def test_at_a_fixed_rate_it_sends_exactly_the_limit_in_paced_batches(sink: socket.socket, system_call: str) -> None:
    assert sender.batch_size(20_000) == 10  # half a millisecond of datagrams per batch
    sent = sender.send_paced(sink.getsockname()[1], POOL, 20_000, 60.0, limit=1_005)
    assert (sent.datagrams, sent.system_call) == (1_005, system_call)
    assert received(sink) == list(itertools.islice(itertools.cycle(POOL), 1_005))
