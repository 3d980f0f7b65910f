"""A restarted `csm-collector proxy` continues its counters: `proxy` starts its source before it restores the
state, and what the proxy counted before and after the restart is all in stats.json's `proxy` section and
in the top-level `records_received`."""

from __future__ import annotations

import re
import socketserver
import threading
from pathlib import Path

import pytest

from tests.helpers import read_json
from tests.proxy_harness import base_env, proxied_client, read_head, running_proxy

pytestmark = pytest.mark.timeout(120)
BODY = b'{"TableNames": []}'


class _Upstream(socketserver.StreamRequestHandler):
    """Answers every request with an empty ListTables (keep-alive)."""

    def handle(self) -> None:
        while (head := read_head(self.rfile)) is not None:
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            self.rfile.read(int(length.group(1)) if length else 0)
            self.wfile.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/x-amz-json-1.0\r\nContent-Length: %d\r\n\r\n%s"
                % (len(BODY), BODY)
            )


def _proxied_calls(tmp_path: Path, upstream: int, calls: int) -> None:
    """`calls` ListTables through a proxy run on `tmp_path`'s output directory, then a clean stop."""
    flags = ["--ca-dir", str(tmp_path / "ca"), "--upstream", f"http://127.0.0.1:{upstream}", "--quiet"]
    with running_proxy(base_env(), *flags, "--flush-interval", "3600", "--output-dir", str(tmp_path / "out")) as proxy:
        dynamodb = proxied_client("dynamodb", tmp_path / "ca", proxy.port)
        for _ in range(calls):
            assert dynamodb.list_tables()["TableNames"] == []
        dynamodb.close()
    assert proxy.process.returncode == 0


def test_a_restarted_proxy_continues_its_counters(tmp_path: Path) -> None:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        _proxied_calls(tmp_path, server.server_address[1], 3)
        _proxied_calls(tmp_path, server.server_address[1], 2)
    finally:
        server.shutdown()
        server.server_close()
    stats = read_json(tmp_path / "out" / "stats.json")
    proxy = stats["proxy"]
    assert (proxy["requests_intercepted"], proxy["requests_matched"], proxy["records_received"]) == (5, 5, 5)
    assert (stats["records_received"], stats["calls"]) == (5, 5)
    assert read_json(tmp_path / "out" / "state.json")["stats"]["proxy"]["requests_intercepted"] == 5
