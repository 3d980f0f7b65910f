"""A request whose body is larger than what the proxy reads (64 KiB), or than what mitmproxy keeps in memory
(`STREAM_LARGE_BODIES`, streamed on): a Lambda deployment package sent inline, as Terraform's
`aws_lambda_function` with `filename` and boto3's `create_function(Code={"ZipFile": ...})` send it."""

from __future__ import annotations

import os
import re
import socketserver
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import read_json
from tests.proxy_harness import base_env, proxied_client, read_head, running_proxy
from tests.proxy_requests import assert_the_deployment_is_granted, inline_deployment

pytestmark = pytest.mark.timeout(180)


class _Upstream(socketserver.StreamRequestHandler):
    """Reads each request's body whole, and answers `{}`."""

    def handle(self) -> None:
        while (head := read_head(self.rfile)) is not None:
            length = re.search(rb"(?im)^content-length:\s*(\d+)", head)
            remaining = int(length.group(1)) if length else 0
            while remaining:
                remaining -= len(self.rfile.read(min(remaining, 1 << 20)))
            self.wfile.write(b"HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nContent-Length: 2\r\n\r\n{}")


@pytest.fixture
def upstream() -> Iterator[int]:
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), _Upstream)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server.server_address[1]
    server.shutdown()
    server.server_close()


@pytest.mark.parametrize("package_bytes", [1_000_000, 6_000_000], ids=["kept-in-memory", "streamed"])
def test_an_inline_deployment_package_hides_nothing_after_it(tmp_path: Path, upstream: int, package_bytes: int) -> None:
    flags = ["--ca-dir", str(tmp_path / "ca"), "--upstream", f"http://127.0.0.1:{upstream}", "--quiet"]
    with running_proxy(base_env(), *flags, "--flush-interval", "3600", "--output-dir", str(tmp_path / "out")) as proxy:
        client = proxied_client("lambda", tmp_path / "ca", proxy.port)
        client.create_function(**inline_deployment(os.urandom(package_bytes)))
        client.close()
    assert proxy.process.returncode == 0
    assert_the_deployment_is_granted(read_json(tmp_path / "out" / "policies" / "ci.json"))
