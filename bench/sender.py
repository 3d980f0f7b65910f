"""The benchmark's sender: datagrams from a pre-built pool, at a fixed rate or flat out, many per system call.

One `sendto` per datagram from Python tops out near the rates the receivers are asked to take (about
100,000/s on a slow day), so a sweep's top rows would measure the sender. Linux's sendmmsg(2), through
ctypes, sends a batch of the pool per call, straight from one buffer that holds the whole pool (no copy,
no Python work per datagram). Where the C library has none, one `send` per datagram, paced alike.

Pacing is per batch: a batch goes when it is due (start + datagrams sent so far / rate), and a phase ends
when its last batch's period does, so `sent / elapsed` is the rate offered, unless the sender fell behind.
Batches are sized to a period of about half a millisecond (as the one-by-one sender paced before), so the
receivers see the same bursts at every rate, capped at MAX_BATCH datagrams per call.
"""

from __future__ import annotations

import ctypes
import errno
import os
import socket
import sys
import time
from array import array
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # this tree's collector_runtime
from collector_runtime.sources.csm.recvmmsg import IoVec, MMsgHdr, MsgHdr

MAX_BATCH = 256  # datagrams per sendmmsg call (the kernel accepts up to 1,024)
PERIOD = 0.0005  # seconds of datagrams per batch at a fixed rate
_RETRY = (errno.EINTR, errno.EAGAIN, errno.ENOBUFS)

SendBatch = Callable[[int, int], int]  # (first index in the pool, count) -> datagrams sent


@dataclass
class Sent:
    datagrams: int
    started: float  # time.perf_counter() (CLOCK_MONOTONIC: comparable across processes)
    finished: float
    cpu_seconds: float  # the sender's own (user + system): under 1 per second when it had no CPU to itself
    system_call: str  # "sendmmsg" or "send"

    @property
    def seconds(self) -> float:
        return self.finished - self.started

    @property
    def rate(self) -> float:
        return self.datagrams / self.seconds if self.seconds > 0 else 0.0


class Sendmmsg:
    """The whole pool joined in one bytes object, an iovec and an mmsghdr per datagram: a batch is a slice of
    the mmsghdr array handed to sendmmsg as is."""

    def __init__(self, fd: int, pool: Sequence[bytes], sendmmsg: Callable[..., int]) -> None:
        self._fd, self._sendmmsg = fd, sendmmsg
        self._data = b"".join(pool)  # read only: the kernel copies from it, nothing writes to it
        address = ctypes.cast(ctypes.c_char_p(self._data), ctypes.c_void_p).value  # its bytes, not a copy
        self._iovecs = (IoVec * len(pool))()
        self._messages = (MMsgHdr * len(pool))()
        # Filled through 64-bit views of the arrays, a strided slice per field: a Python loop over 100,000
        # ctypes structures would take longer than a short phase.
        lengths = array("Q", map(len, pool))
        starts, offset = array("Q"), address or 0
        for length in lengths:
            starts.append(offset)
            offset += length
        iovec_words = _words(self._iovecs)
        iovec_words[IoVec.base.offset // 8 :: 2] = starts
        iovec_words[IoVec.length.offset // 8 :: 2] = lengths
        first, size, stride = ctypes.addressof(self._iovecs), ctypes.sizeof(IoVec), ctypes.sizeof(MMsgHdr) // 8
        message_words = _words(self._messages)
        message_words[MsgHdr.iov.offset // 8 :: stride] = array("Q", range(first, first + len(pool) * size, size))
        message_words[MsgHdr.iovlen.offset // 8 :: stride] = array("Q", [1]) * len(pool)
        self._first, self._size = ctypes.addressof(self._messages), ctypes.sizeof(MMsgHdr)

    def __call__(self, index: int, count: int) -> int:
        while True:
            done = self._sendmmsg(self._fd, self._first + index * self._size, count, 0)
            if done >= 0:
                return done
            error = ctypes.get_errno()
            if error not in _RETRY:
                raise OSError(error, f"sendmmsg: {errno.errorcode.get(error, error)}")


def _words(structures: ctypes.Array[Any]) -> memoryview:
    return memoryview(structures).cast("B").cast("Q")


def send_one_by_one(sock: socket.socket, pool: Sequence[bytes]) -> SendBatch:
    send = sock.send

    def send_batch(index: int, count: int) -> int:
        for data in pool[index : index + count]:
            send(data)
        return count

    return send_batch


def batch_sender(sock: socket.socket, pool: Sequence[bytes]) -> SendBatch | None:
    """sendmmsg over the connected socket `sock`, or None where the C library has none."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        sendmmsg = ctypes.CDLL(None, use_errno=True).sendmmsg
    except (OSError, AttributeError):
        return None
    sendmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int]
    sendmmsg.restype = ctypes.c_int
    return Sendmmsg(sock.fileno(), pool, sendmmsg)


def batch_size(rate: int) -> int:
    return MAX_BATCH if not rate else max(1, min(MAX_BATCH, round(rate * PERIOD)))


def send_paced(port: int, pool: Sequence[bytes], rate: int, seconds: float, limit: int = 2**62) -> Sent:
    """`rate` datagrams/s (0: flat out) of `pool`, in a loop, to 127.0.0.1:`port`, for `seconds` or until
    `limit` datagrams are sent (a fixed rate sends rate x seconds, unless the sender falls behind)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.connect(("127.0.0.1", port))  # no address per datagram, no route lookup per call
        send_batch = batch_sender(sock, pool)
        system_call = "send" if send_batch is None else "sendmmsg"
        send_batch = send_batch or send_one_by_one(sock, pool)
        total = min(limit, round(rate * seconds)) if rate else limit
        batch, size = batch_size(rate), len(pool)
        cpu_before, started = _cpu_seconds(), time.perf_counter()
        deadline, sent, index = started + seconds, 0, 0
        while sent < total:
            now = time.perf_counter()
            if now >= deadline:
                break
            count = batch
            if rate:
                due = started + sent / rate
                if due > now:
                    time.sleep(due - now)
                elif now - due > PERIOD:
                    count = MAX_BATCH  # behind: catch up at the sender's best
            done = send_batch(index, min(count, total - sent, size - index))  # a batch ends at the pool's end
            sent += done
            index = (index + done) % size
        if rate:  # the last batch's period, so that sent / elapsed is the rate offered
            time.sleep(max(0.0, started + sent / rate - time.perf_counter()))
        finished = time.perf_counter()
        return Sent(sent, started, finished, _cpu_seconds() - cpu_before, system_call)


def _cpu_seconds() -> float:
    times = os.times()
    return times.user + times.system
