"""A receiver on a free loopback port, and raw HTTP/1.1 requests to it (tests of the OTLP/HTTP adapter)."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from collector_runtime.core.records import ObservedCall
from collector_runtime.data import load_action_map
from collector_runtime.sources.otlp.receiver import OtlpReceiver

ACTION_MAP = load_action_map()
LIMIT = 256 << 10


class Collected:
    """What a receiver handed to its collector."""

    def __init__(self) -> None:
        self.batches: list[list[ObservedCall]] = []

    def submit(self, calls: list[ObservedCall]) -> None:
        self.batches.append(calls)

    @property
    def calls(self) -> list[ObservedCall]:
        return [call for batch in self.batches for call in batch]


@contextmanager
def receiving(**options: Any) -> Iterator[tuple[OtlpReceiver, Collected]]:
    collected = Collected()
    options.setdefault("max_request_bytes", LIMIT)
    receiver = OtlpReceiver("127.0.0.1", 0, ACTION_MAP, collected.submit, **options)
    receiver.start()
    try:
        yield receiver, collected
    finally:
        receiver.stop()


def request(
    port: int,
    body: bytes = b"",
    headers: dict[str, str] | None = None,
    *,
    method: str = "POST",
    path: str = "/v1/traces",
    chunked: bool = False,
    raw: bytes | None = None,
) -> tuple[int, dict[str, str], bytes]:
    """One request on a new connection: (status, headers, body); status 0 when the server closed without an answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
        try:
            connection.sendall(raw if raw is not None else _encoded(method, path, body, headers or {}, chunked))
            connection.shutdown(socket.SHUT_WR)  # all sent: a request cut short ends here, not at a timeout
        except OSError:  # closed by the receiver (not allowed, too many connections, refused early)
            pass
        return read_response(connection.makefile("rb"))


def _encoded(method: str, path: str, body: bytes, headers: dict[str, str], chunked: bool) -> bytes:
    lines = [f"{method} {path} HTTP/1.1", "Host: 127.0.0.1", "Connection: close"]
    framing = {"Transfer-Encoding": "chunked"} if chunked else {"Content-Length": str(len(body))}
    lines += [f"{name}: {value}" for name, value in {**framing, **headers}.items()]
    if chunked:
        pieces = [body[i : i + 1000] for i in range(0, len(body), 1000)]
        body = b"".join(b"%x\r\n%s\r\n" % (len(piece), piece) for piece in pieces) + b"0\r\n\r\n"
    return ("\r\n".join(lines) + "\r\n\r\n").encode() + body


def read_response(reader: Any) -> tuple[int, dict[str, str], bytes]:
    try:
        status_line = reader.readline()
    except OSError:
        return 0, {}, b""
    if not status_line:
        return 0, {}, b""
    status = int(status_line.split()[1])
    headers = {}
    for line in iter(reader.readline, b"\r\n"):
        if not line:
            break
        name, _, value = line.decode().partition(":")
        headers[name.strip().lower()] = value.strip()
    return status, headers, reader.read(int(headers.get("content-length", "0")))
