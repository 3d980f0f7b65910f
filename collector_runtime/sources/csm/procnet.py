"""The kernel's count of datagrams it dropped for a socket (full receive buffer), from /proc/net/udp."""

from __future__ import annotations

import os
import socket
from pathlib import Path

_TABLES = (Path("/proc/net/udp"), Path("/proc/net/udp6"))


def drops_in_table(table: str, inode: int) -> int | None:
    """The `drops` column of the row whose inode is `inode` in a /proc/net/udp[6] table."""
    for line in table.splitlines()[1:]:
        columns = line.split()
        if len(columns) >= 13 and columns[9] == str(inode):
            return int(columns[12])
    return None


def kernel_drops(sock: socket.socket) -> int | None:
    """Datagrams dropped for `sock`, or None where /proc/net/udp is not readable (not Linux)."""
    try:
        inode = os.fstat(sock.fileno()).st_ino
    except OSError:
        return None
    for table in _TABLES:
        try:
            drops = drops_in_table(table.read_text(), inode)
        except OSError:
            continue
        if drops is not None:
            return drops
    return None
