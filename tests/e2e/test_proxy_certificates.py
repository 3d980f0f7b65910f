"""The certificates a real `csm-collector proxy` presents: one wildcard per S3 virtual-host family, so a new
bucket (Terraform's `terraform-<timestamp>`) costs no certificate signing, and every one still verifies for
the exact name the client asked for (a bucket name with dots gets a certificate of its own)."""

from __future__ import annotations

import socket
import ssl
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.proxy_harness import base_env, running_proxy

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope="module")
def proxy(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[int, Path]]:
    tmp = tmp_path_factory.mktemp("certificates")
    with running_proxy(base_env(), "--ca-dir", f"{tmp}/ca", "--output-dir", f"{tmp}/out", "--quiet") as proxy:
        yield proxy.port, tmp / "ca" / "ca-bundle.pem"


def presented(proxy: tuple[int, Path], host: str) -> dict[str, object]:
    """The certificate the proxy presents for `host` after a CONNECT; the handshake verifies it for `host`."""
    port, bundle = proxy
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(f"CONNECT {host}:443 HTTP/1.1\r\nHost: {host}:443\r\n\r\n".encode())
        assert raw.recv(4096).startswith(b"HTTP/1.1 200")
        context = ssl.create_default_context(cafile=str(bundle))
        with context.wrap_socket(raw, server_hostname=host) as tls:
            certificate = tls.getpeercert()
    assert certificate
    return certificate


def test_new_buckets_of_a_region_share_one_certificate(proxy: tuple[int, Path]) -> None:
    first = presented(proxy, "terraform-20260101000000000001.s3.eu-west-1.amazonaws.com")
    second = presented(proxy, "terraform-20260101000000000002.s3.eu-west-1.amazonaws.com")
    assert first["serialNumber"] == second["serialNumber"]
    assert ("DNS", "*.s3.eu-west-1.amazonaws.com") in first["subjectAltName"]  # type: ignore[operator]


def test_each_family_has_its_own_and_dotted_buckets_an_exact_one(proxy: tuple[int, Path]) -> None:
    region = presented(proxy, "bucket-one.s3.eu-west-1.amazonaws.com")
    other_region = presented(proxy, "bucket-one.s3.us-east-2.amazonaws.com")
    dotted = presented(proxy, "www.example.com.s3.eu-west-1.amazonaws.com")  # verified for its name above
    path_style = presented(proxy, "s3.eu-west-1.amazonaws.com")
    serials = {c["serialNumber"] for c in (region, other_region, dotted, path_style)}
    assert len(serials) == 4
    assert ("DNS", "www.example.com.s3.eu-west-1.amazonaws.com") in dotted["subjectAltName"]  # type: ignore[operator]
