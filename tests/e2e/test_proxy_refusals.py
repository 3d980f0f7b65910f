"""The proxy is no open relay: a real `csm-collector proxy` and local TCP listeners that count what reaches them.

The forbidden listener (127.0.0.1, a port nobody allowed) must see no connection at all, whichever way a
client asks: CONNECT to its address, a plain-HTTP request, a name that resolves to it. mitmproxy's onboarding
app (`http://mitm.it/`) is not served. A destination allowed with --allow-destination is reached (tunnelled
and forwarded), and a name pinned to its resolved address still reuses its server connection.
"""

from __future__ import annotations

import http.client
import json
import re
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.proxy_harness import base_env, read_head, running_proxy

pytestmark = pytest.mark.timeout(120)
BODY = b"listener\n"


class _Handler(socketserver.StreamRequestHandler):
    """Answers every HTTP/1.1 request on a connection (keep-alive) with BODY; counts connections, requests."""

    server: _Listener

    def handle(self) -> None:
        self.server.connections += 1
        while True:
            head = read_head(self.rfile)
            if head is None:
                return
            self.server.requests.append(head)
            self.wfile.write(b"HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s" % (len(BODY), BODY))


class _Listener(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self) -> None:
        super().__init__(("127.0.0.1", 0), _Handler)
        self.connections = 0
        self.requests: list[bytes] = []

    @property
    def port(self) -> int:
        return int(self.server_address[1])


@contextmanager
def listener() -> Iterator[_Listener]:
    server = _Listener()
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


@dataclass
class Refusals:
    forbidden: _Listener
    allowed: _Listener
    pinned: _Listener
    seen: dict[str, Any] = field(default_factory=dict)  # probe -> what the client got
    stats: dict[str, Any] = field(default_factory=dict)
    stderr: str = ""


def connect(proxy: int, target: str, then: bytes) -> bytes:
    """CONNECT target through the proxy: its answer; if it is a 200, `then` sent through the tunnel and, after
    a `|`, what came back (until BODY or the tunnel closed)."""
    with socket.create_connection(("127.0.0.1", proxy), timeout=10) as raw:
        raw.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        answer = b""
        while b"\r\n\r\n" not in answer and (chunk := raw.recv(65536)):
            answer += chunk
        head, _, body = answer.partition(b"\r\n\r\n")
        length = re.search(rb"(?i)content-length: *(\d+)", head)
        while length and len(body) < int(length.group(1)) and (chunk := raw.recv(65536)):
            body += chunk
        if not head.startswith(b"HTTP/1.1 200"):
            return head + b"\r\n\r\n" + body
        raw.sendall(then)
        tunnelled = b""
        while not tunnelled.endswith(BODY) and (chunk := raw.recv(65536)):
            tunnelled += chunk
        return head + b"|" + tunnelled


def get(proxy: int, url: str, requests: int = 1) -> list[tuple[int, bytes]]:
    """Plain-HTTP proxy requests for `url`, on one connection to the proxy."""
    connection = http.client.HTTPConnection("127.0.0.1", proxy, timeout=10)
    try:
        answers = []
        for _ in range(requests):
            connection.request("GET", url)
            response = connection.getresponse()
            answers.append((response.status, response.read()))
        return answers
    finally:
        connection.close()


@pytest.fixture(scope="module")
def refusals(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Refusals]:
    tmp = tmp_path_factory.mktemp("refusals")
    with listener() as forbidden, listener() as allowed, listener() as pinned:
        run = Refusals(forbidden, allowed, pinned)
        flags = ["--ca-dir", str(tmp / "ca"), "--output-dir", str(tmp / "out"), "--flush-interval", "3600"]
        flags += ["--allow-destination", f"127.0.0.1:{allowed.port}"]
        flags += ["--allow-destination", f"127.0.0.1/32:{pinned.port}"]  # by address: names resolving there
        flags += ["--allow-destination", f"127.0.0.2/32:{forbidden.port}"]  # not where `localhost` resolves
        with running_proxy(base_env(), *flags) as proxy:
            _probe(run, proxy.port)
        run.stderr = proxy.stderr
        run.stats = json.loads(Path(tmp / "out" / "stats.json").read_text())
        yield run


def _probe(run: Refusals, proxy: int) -> None:
    forbidden, request = run.forbidden.port, b"GET / HTTP/1.1\r\nHost: x\r\n\r\n"
    run.seen["connect_address"] = connect(proxy, f"127.0.0.1:{forbidden}", then=request)
    run.seen["connect_address_again"] = connect(proxy, f"127.0.0.1:{forbidden}", then=request)
    run.seen["get_address"] = get(proxy, f"http://127.0.0.1:{forbidden}/")
    run.seen["connect_name"] = connect(proxy, f"localhost:{forbidden}", then=request)
    run.seen["get_name"] = get(proxy, f"http://localhost:{forbidden}/")
    run.seen["onboarding"] = get(proxy, "http://mitm.it/")
    run.seen["connect_allowed"] = connect(proxy, f"127.0.0.1:{run.allowed.port}", then=request)
    run.seen["get_allowed"] = get(proxy, f"http://127.0.0.1:{run.allowed.port}/")
    run.seen["get_pinned"] = get(proxy, f"http://localhost:{run.pinned.port}/", requests=2)


def test_the_forbidden_listener_sees_no_connection(refusals: Refusals) -> None:
    assert refusals.forbidden.connections == 0 and refusals.forbidden.requests == []


def test_connect_and_requests_to_a_local_address_get_403(refusals: Refusals) -> None:
    for probe in ("connect_address", "connect_address_again"):
        assert refusals.seen[probe].startswith(b"HTTP/1.1 403"), refusals.seen[probe]
        assert b"--allow-destination" in refusals.seen[probe]
    [(status, body)] = refusals.seen["get_address"]
    assert status == 403 and f"127.0.0.1:{refusals.forbidden.port}".encode() in body


def test_a_name_is_judged_by_the_address_it_resolves_to(refusals: Refusals) -> None:
    tunnel = refusals.seen["connect_name"]
    assert tunnel.startswith(b"HTTP/1.1 200") and BODY not in tunnel  # the tunnel closes unanswered
    [(status, body)] = refusals.seen["get_name"]
    assert status == 502 and b"loopback address 127.0.0.1" in body


def test_the_onboarding_app_is_not_served(refusals: Refusals) -> None:
    [(status, body)] = refusals.seen["onboarding"]
    assert status == 403 and b"mitmproxy" not in body.lower()


def test_an_allowed_destination_is_tunnelled_and_forwarded(refusals: Refusals) -> None:
    assert refusals.seen["connect_allowed"].startswith(b"HTTP/1.1 200")
    assert refusals.seen["connect_allowed"].endswith(BODY)
    assert refusals.seen["get_allowed"] == [(200, BODY)]
    assert refusals.allowed.connections == 2


def test_a_pinned_name_reuses_its_server_connection(refusals: Refusals) -> None:
    assert refusals.seen["get_pinned"] == [(200, BODY), (200, BODY)]
    assert refusals.pinned.connections == 1 and len(refusals.pinned.requests) == 2
    assert all(f"localhost:{refusals.pinned.port}".encode() in head for head in refusals.pinned.requests)


def test_refusals_are_counted_and_logged_once_per_destination(refusals: Refusals) -> None:
    counters = refusals.stats["proxy"]
    assert counters["destinations_refused"] == 6
    # tunnels: the allowed one, and the one to `localhost` (refused when it connected, after the CONNECT)
    assert counters["tunnels_not_intercepted"] == 2 and counters["internal_errors"] == 0
    forbidden = refusals.forbidden.port
    assert refusals.stderr.count(f"refused '127.0.0.1:{forbidden}'") == 1
    assert refusals.stderr.count(f"refused 'localhost:{forbidden}'") == 1
    assert "Traceback" not in refusals.stderr
