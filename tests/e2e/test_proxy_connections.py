"""Connections per request through a real `csm-collector proxy --upstream`, counted (not timed): boto3 makes N
sequential calls on one client connection, and TCP relays count the connections the client opens to the proxy
and the proxy opens to the upstream.

An upstream that keeps connections alive (as AWS does) is dialled once for all N requests; one that closes
after every response (moto_server: Werkzeug always sends `Connection: close`) is dialled per request, and the
client still keeps its one connection (and its one CONNECT and TLS handshake) to the proxy, up to
UPSTREAM_CLOSES_HIDDEN of them: mitmproxy keeps every closed upstream connection of a client connection until
the client leaves (and scans them all for each request), so the next close is passed on and the client starts
afresh.
"""

from __future__ import annotations

import re
import socket
import socketserver
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from collector_runtime.sources.proxy.addon import UPSTREAM_CLOSES_HIDDEN
from tests.proxy_harness import base_env, proxied_client, read_head, running_proxy

pytestmark = pytest.mark.timeout(120)
REQUESTS = 20
BODY = b'{"TableNames": []}'


class _Upstream(socketserver.StreamRequestHandler):
    """Answers every request of a connection with an empty ListTables; with `closes`, closes after each."""

    server: _CountingServer

    def handle(self) -> None:
        self.server.connections += 1
        while True:
            head = read_head(self.rfile)
            if head is None:
                return
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            self.rfile.read(int(length.group(1)) if length else 0)
            close = b"Connection: close\r\n" if self.server.closes else b""
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\n%sContent-Length: %d\r\n\r\n%s"
                % (close, len(BODY), BODY)
            )
            if self.server.closes:
                return


class _CountingServer(socketserver.ThreadingTCPServer):
    daemon_threads = True

    def __init__(self, handler: type[socketserver.BaseRequestHandler], closes: bool = False) -> None:
        super().__init__(("127.0.0.1", 0), handler)
        self.connections = 0
        self.closes = closes
        self.target = 0  # for the relay: where it forwards

    @property
    def port(self) -> int:
        return int(self.server_address[1])


class _Relay(socketserver.BaseRequestHandler):
    """Counts the connections a client opens, and forwards each to `server.target`."""

    server: _CountingServer

    def handle(self) -> None:
        self.server.connections += 1
        with socket.create_connection(("127.0.0.1", self.server.target)) as onward:
            for end in (onward, self.request):  # relayed as it comes: Nagle would hold each reply for an ACK
                end.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            back = threading.Thread(target=_pipe, args=(onward, self.request), daemon=True)
            back.start()
            _pipe(self.request, onward)
            back.join(timeout=30)


def _pipe(source: socket.socket, sink: socket.socket) -> None:
    try:
        while data := source.recv(65536):
            sink.sendall(data)
        sink.shutdown(socket.SHUT_WR)
    except OSError:
        pass


@contextmanager
def _serving(server: _CountingServer) -> Iterator[_CountingServer]:
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        yield server
    finally:
        server.shutdown()
        server.server_close()


def _counted_run(tmp_path: Path, *, upstream_closes: bool, requests: int = REQUESTS) -> tuple[int, int]:
    """(client connections to the proxy, proxy connections to the upstream) for `requests` ListTables."""
    with (
        _serving(_CountingServer(_Upstream, closes=upstream_closes)) as upstream,
        _serving(_CountingServer(_Relay)) as front,
    ):
        flags = ["--ca-dir", str(tmp_path / "ca"), "--upstream", f"http://127.0.0.1:{upstream.port}", "--quiet"]
        with running_proxy(base_env(), *flags, "--output-dir", str(tmp_path / "out")) as proxy:
            front.target = proxy.port
            dynamodb = proxied_client("dynamodb", tmp_path / "ca", proxy.port, via_port=front.port)
            for _ in range(requests):
                assert dynamodb.list_tables()["TableNames"] == []
            dynamodb.close()
        return front.connections, upstream.connections


def test_a_client_connection_reuses_one_upstream_connection_for_all_its_requests(tmp_path: Path) -> None:
    assert _counted_run(tmp_path, upstream_closes=False) == (1, 1)


def test_an_upstream_that_closes_after_each_response_does_not_close_the_clients_connection(tmp_path: Path) -> None:
    assert _counted_run(tmp_path, upstream_closes=True) == (1, REQUESTS)


def test_a_client_connection_outliving_many_upstream_closes_is_closed_with_the_next_one(tmp_path: Path) -> None:
    requests = UPSTREAM_CLOSES_HIDDEN + 5
    assert _counted_run(tmp_path, upstream_closes=True, requests=requests) == (2, requests)
