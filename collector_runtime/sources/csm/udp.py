"""The UDP side of the collector: a bound, non-blocking socket with a large receive buffer."""

from __future__ import annotations

import socket
import sys
from collections.abc import Callable, Sequence
from typing import Any

from ..source import DRAIN_LIMIT
from .decoder import MAX_DATAGRAM_BYTES
from .procnet import kernel_drops
from .recvmmsg import SLOTS, batch_receiver

# Datagrams handed over at once: one system call and one JSON decode per batch (see recvmmsg.py and fields.py);
# a batch is what is already queued, so a lone datagram is never held back waiting for others.
BATCH = SLOTS
Datagram = bytes | memoryview  # a memoryview is valid only during the handler's call
BatchHandler = Callable[[Sequence[Datagram]], object]


class UdpListener:
    def __init__(self, host: str, port: int, *, receive_buffer: int) -> None:
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(family, socket.SOCK_DGRAM)
        self.requested_buffer = receive_buffer
        self._size_buffer(receive_buffer)
        try:
            self.sock.bind((host, port))
        except OSError:
            self.sock.close()
            raise
        self.sock.setblocking(False)
        self._batches = batch_receiver(self.sock.fileno())

    def _size_buffer(self, size: int) -> None:
        # SO_RCVBUFFORCE passes net.core.rmem_max when the process may (CAP_NET_ADMIN); else the kernel
        # caps SO_RCVBUF at rmem_max. Python does not export the constant: it is 33 on Linux.
        force = getattr(socket, "SO_RCVBUFFORCE", 33 if sys.platform.startswith("linux") else None)
        try:
            if force is None:
                raise PermissionError
            self.sock.setsockopt(socket.SOL_SOCKET, force, size)
        except OSError:
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, size)

    @property
    def granted_buffer(self) -> int:
        """The receive buffer as the kernel reports it: Linux doubles the size it sets (capped at
        net.core.rmem_max without CAP_NET_ADMIN) for its bookkeeping, socket(7), and reports the double."""
        return int(self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF))

    @property
    def usable_buffer(self) -> int:
        """The size the kernel set, comparable with the request: half of what Linux reports."""
        granted = self.granted_buffer
        return granted // 2 if sys.platform.startswith("linux") else granted

    @property
    def address(self) -> tuple[str, int]:
        host, port = self.sock.getsockname()[:2]
        return str(host), int(port)

    def fileno(self) -> int:
        return self.sock.fileno()

    def drain(self, handle: BatchHandler, limit: int = DRAIN_LIMIT) -> int:
        """Receive up to `limit` queued datagrams without blocking, handed over in batches of up to `BATCH`
        (in arrival order); returns how many."""
        if self._batches is None:
            return self._drain_one_by_one(handle, limit)
        receive = self._batches.receive
        count = 0
        while count < limit:
            batch = receive()
            if batch:
                handle(batch)
                count += len(batch)
            if len(batch) < BATCH:  # the queue is empty
                break
        return count

    def _drain_one_by_one(self, handle: BatchHandler, limit: int) -> int:
        """`drain` with a system call per datagram (where recvmmsg is missing)."""
        receive = self.sock.recv
        count = 0
        while count < limit:
            batch: list[Datagram] = []
            append = batch.append
            try:
                for _ in range(BATCH):
                    append(receive(MAX_DATAGRAM_BYTES))
            except (BlockingIOError, InterruptedError):
                if batch:
                    handle(batch)
                return count + len(batch)
            handle(batch)
            count += BATCH
        return count

    def drain_from(self, accepts: Callable[[str], bool], handle: BatchHandler, limit: int = DRAIN_LIMIT) -> int:
        """Like `drain`, keeping only the datagrams whose source address `accepts` (access control): a system
        call per datagram, which reads its source address."""
        receive = self.sock.recvfrom
        count = 0
        while count < limit:
            batch: list[Datagram] = []
            try:
                for _ in range(BATCH):
                    data, source = receive(MAX_DATAGRAM_BYTES)
                    count += 1
                    if accepts(source[0]):
                        batch.append(data)
            except (BlockingIOError, InterruptedError):
                if batch:
                    handle(batch)
                return count
            if batch:
                handle(batch)
        return count

    def drainer(self, handle: BatchHandler, accepts: Callable[[str], bool] | None) -> Callable[[], int]:
        """The receive path: with access control (`accepts` a source address) the address is read; without,
        it is not (recv is cheaper than recvfrom)."""
        if accepts is None:
            return lambda: self.drain(handle)
        return lambda: self.drain_from(accepts, handle)

    def stats(self) -> dict[str, Any]:
        host, port = self.address
        return {
            "listening_on": f"{host}:{port}",
            "receive_buffer_requested": self.requested_buffer,
            "receive_buffer_granted": self.granted_buffer,
            "receive_buffer_usable": self.usable_buffer,
            "kernel_receive_drops": self.kernel_drops(),
        }

    def kernel_drops(self) -> int | None:
        return kernel_drops(self.sock)

    def close(self) -> None:
        self.sock.close()
