"""Many queued datagrams per system call: Linux's recvmmsg(2), through ctypes (the standard library has no
binding, and no maintained package offers one).

At the rates the collector is built for, a system call per datagram costs about as much as decoding it:
one `recvmmsg` fills up to `SLOTS` fixed 64 KiB slots of one buffer (no UDP datagram is larger) and
reports each datagram's length. The datagrams are handed over as memoryviews of that buffer, valid until
the next `receive`: whoever keeps one longer must copy it (the decoder copies every field it keeps).
Where recvmmsg is missing (not Linux), `batch_receiver` returns None and the caller receives one by one.
"""

from __future__ import annotations

import ctypes
import errno
import mmap
import sys
from collections.abc import Callable

SLOTS = 64  # datagrams per call; the buffer is SLOTS x 64 KiB of address space
SLOT_BYTES = 65_536  # over the largest UDP payload (65,507 bytes over IPv4, 65,527 over IPv6)
MSG_DONTWAIT = 0x40  # Linux's value on every architecture
_RETRY_LATER = (errno.EAGAIN, errno.EWOULDBLOCK, errno.EINTR)


# socket.h's structures, public: bench/sender.py sends with sendmmsg(2) through the same ones.
class IoVec(ctypes.Structure):
    _fields_ = [("base", ctypes.c_void_p), ("length", ctypes.c_size_t)]


class MsgHdr(ctypes.Structure):  # struct msghdr, socket.h (glibc and musl lay it out alike on 64-bit)
    _fields_ = [
        ("name", ctypes.c_void_p),
        ("namelen", ctypes.c_uint32),
        ("iov", ctypes.POINTER(IoVec)),
        ("iovlen", ctypes.c_size_t),
        ("control", ctypes.c_void_p),
        ("controllen", ctypes.c_size_t),
        ("flags", ctypes.c_int),
    ]


class MMsgHdr(ctypes.Structure):  # struct mmsghdr: a message and the length received into it
    _fields_ = [("header", MsgHdr), ("length", ctypes.c_uint)]


class BatchReceiver:
    """Receives what is queued on one non-blocking UDP socket, up to SLOTS datagrams per call."""

    def __init__(self, fd: int, recvmmsg: Callable[..., int]) -> None:
        self._fd = fd
        self._recvmmsg = recvmmsg
        # Anonymous memory, not a bytearray (which is zeroed, so resident, at once): a page becomes resident
        # only once a datagram is written into it, a few KiB per slot for the datagrams SDKs send.
        self._buffer = mmap.mmap(-1, SLOTS * SLOT_BYTES)
        base = ctypes.addressof(ctypes.c_char.from_buffer(self._buffer))
        self._iovecs = (IoVec * SLOTS)(*(IoVec(base + i * SLOT_BYTES, SLOT_BYTES) for i in range(SLOTS)))
        self._messages = (MMsgHdr * SLOTS)()
        for i, message in enumerate(self._messages):
            message.header.iov = ctypes.pointer(self._iovecs[i])
            message.header.iovlen = 1
        self._address = ctypes.addressof(self._messages)
        # Every message's `length`, read in one slice of the array seen as unsigned ints.
        words = memoryview(self._messages).cast("B").cast("I")
        stride = ctypes.sizeof(MMsgHdr) // 4
        self._lengths = words[MMsgHdr.length.offset // 4 :: stride]
        self._view = memoryview(self._buffer)
        self._offsets = range(0, SLOTS * SLOT_BYTES, SLOT_BYTES)

    def receive(self) -> list[memoryview]:
        """The datagrams queued now, in arrival order (none: an empty list); views valid until the next call."""
        count = self._recvmmsg(self._fd, self._address, SLOTS, MSG_DONTWAIT, None)
        if count <= 0:
            error = ctypes.get_errno()
            if count < 0 and error not in _RETRY_LATER:
                raise OSError(error, f"recvmmsg: {errno.errorcode.get(error, error)}")
            return []
        view, lengths = self._view, self._lengths[:count]
        return [view[offset : offset + length] for offset, length in zip(self._offsets[:count], lengths, strict=True)]


def batch_receiver(fd: int) -> BatchReceiver | None:
    """A batch receiver for the socket `fd`, or None where the C library has no recvmmsg."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        recvmmsg = ctypes.CDLL(None, use_errno=True).recvmmsg
    except (OSError, AttributeError):
        return None
    recvmmsg.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_uint, ctypes.c_int, ctypes.c_void_p]
    recvmmsg.restype = ctypes.c_int
    return BatchReceiver(fd, recvmmsg)
