"""Real processes for the proxy's end-to-end tests: moto_server, `csm-collector proxy`, a TLS server of its own,
the clients' environment from `proxy-env`, and the Go client built offline."""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, BinaryIO

import boto3
from botocore.config import Config

from tests.helpers import unbuffered_lines, wait_for

ROOT = Path(__file__).parents[1]
CLIENTS = Path(__file__).parent / "proxy_clients"
BIN = Path(sys.executable).parent
GO_CACHE = ROOT / ".cache"  # ignored by git: the Go build cache and the client binary


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def base_env() -> dict[str, str]:
    """This environment without what would steer a client or the collector elsewhere."""
    drop = ("CSM_COLLECTOR_", "AWS_", "HTTP_PROXY", "HTTPS_PROXY", "http_proxy", "https_proxy", "NO_PROXY")
    return {k: v for k, v in os.environ.items() if not k.startswith(drop)} | {"PYTHONUNBUFFERED": "1"}


@contextmanager
def moto_server(account: str) -> Iterator[int]:
    """moto_server on 127.0.0.1 whose default account is `account` (as AWS, it answers in the caller's)."""
    port = free_port()
    env = base_env() | {"MOTO_ACCOUNT_ID": account}
    process = subprocess.Popen(
        [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        assert wait_for(lambda: _answers(f"http://127.0.0.1:{port}/moto-api/"), timeout=30)
        yield port
    finally:
        process.kill()
        process.wait(timeout=10)


def _answers(url: str) -> bool:
    try:
        with urllib.request.build_opener(urllib.request.ProxyHandler({})).open(url, timeout=2):
            return True
    except OSError:
        return False


def start_proxy(env: dict[str, str], *flags: str) -> tuple[subprocess.Popen[str], int]:
    """`csm-collector proxy` as a real process on a free port; returns it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "collector_runtime", "proxy", "--port", "0", *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    assert process.stderr is not None
    seen = []
    for line in unbuffered_lines(process.stderr):  # the lines after it stay for communicate()
        seen.append(line)
        match = re.search(r"proxy listening on 127\.0\.0\.1:(\d+)/tcp", line)
        if match:
            return process, int(match.group(1))
    process.wait(timeout=10)
    raise AssertionError("the proxy did not start:\n" + "".join(seen))


@dataclass
class RunningProxy:
    """A `csm-collector proxy` process and its port; once its block has ended, what it wrote."""

    process: subprocess.Popen[str]
    port: int
    stdout: str = ""
    stderr: str = ""


@contextmanager
def running_proxy(env: dict[str, str], *flags: str) -> Iterator[RunningProxy]:
    """`start_proxy` for the block, stopped cleanly (SIGTERM: its files written) however the block ends."""
    process, port = start_proxy(env, *flags)
    proxy = RunningProxy(process, port)
    try:
        yield proxy
    finally:
        process.send_signal(signal.SIGTERM)
        proxy.stdout, proxy.stderr = process.communicate(timeout=60)


def proxy_env(env: dict[str, str], *flags: str) -> dict[str, str]:
    """The environment after `eval "$(csm-collector proxy-env FLAGS)"`: the whole client set-up."""
    command = " ".join([sys.executable, "-m", "collector_runtime", "proxy-env", *flags])
    result = subprocess.run(
        ["sh", "-c", f'eval "$({command})" && env -0'], env=env, capture_output=True, text=True, check=True
    )
    return dict(item.split("=", 1) for item in result.stdout.split("\0") if "=" in item)


def proxied_client(service: str, ca_dir: Path, proxy_port: int, via_port: int | None = None) -> Any:
    """A boto3 client of `service` set up as `proxy-env` sets a client up: the proxy's CA bundle, the proxy (or a
    relay in front of it, `via_port`) with the workload `ci` as its user; one attempt per call."""
    bundle = proxy_env(base_env(), "--ca-dir", str(ca_dir), "--port", str(proxy_port))["AWS_CA_BUNDLE"]
    config = Config(retries={"max_attempts": 1}, proxies={"https": f"http://ci:x@127.0.0.1:{via_port or proxy_port}"})
    session = boto3.session.Session(
        aws_access_key_id="ASIAY34FZKBOKMUTVV7A", aws_secret_access_key="x", region_name="eu-west-1"
    )
    return session.client(service, config=config, verify=bundle)


def go_client() -> Path:
    """The Go SDK v2 client, built offline in GOPATH mode from Debian's packages (cached in .cache/)."""
    binary = GO_CACHE / "proxy-go" / "proxyclient"
    env = base_env() | {
        "GOPATH": f"{CLIENTS / 'go'}:/usr/share/gocode",
        "GO111MODULE": "off",
        "GOCACHE": str(GO_CACHE / "go-build"),
    }
    subprocess.run(["go", "build", "-o", str(binary), "proxyclient"], env=env, check=True, timeout=300)
    return binary


class _Hello(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = b"own server\n"
        self.send_response(200)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *_: object) -> None:
        pass


@contextmanager
def own_tls_server(directory: Path) -> Iterator[tuple[int, Path]]:
    """An HTTPS server on 127.0.0.1 with a self-signed certificate of its own; yields its port and that
    certificate (the only CA a client needs to verify it)."""
    cert, key = _self_signed(directory)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Hello)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield server.server_address[1], cert
    finally:
        server.shutdown()
        server.server_close()


def _self_signed(directory: Path) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "own-server.test")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "own-cert.pem", directory / "own-key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


def fetch_through_proxy(proxy_port: int, target_port: int, ca_file: Path) -> tuple[bytes, bytes]:
    """GET https://127.0.0.1:<target_port>/ through the proxy (CONNECT), verifying with `ca_file` only;
    returns the body and the certificate the client saw (DER)."""
    context = ssl.create_default_context(cafile=str(ca_file))
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as raw:
        raw.sendall(f"CONNECT 127.0.0.1:{target_port} HTTP/1.1\r\nHost: 127.0.0.1:{target_port}\r\n\r\n".encode())
        assert raw.recv(4096).startswith(b"HTTP/1.1 200")
        with context.wrap_socket(raw, server_hostname="127.0.0.1") as tls:
            certificate = tls.getpeercert(binary_form=True) or b""
            tls.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            data = b""
            while chunk := tls.recv(4096):
                data += chunk
            return data.split(b"\r\n\r\n", 1)[1], certificate


def read_head(rfile: BinaryIO) -> bytes | None:
    """The head of the next request on a test server's connection (up to its blank line); None once the client
    has closed the connection."""
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        line = rfile.readline()
        if not line:
            return None
        head += line
    return head
