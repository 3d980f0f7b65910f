"""The proxy's CA: generated once, reused, its key private at every start, the combined bundle."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest

from collector_runtime.sources.proxy.ca import CaError, prepare_ca, system_bundle


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_the_ca_is_generated_once_and_reused(tmp_path: Path) -> None:
    first = prepare_ca(tmp_path / "ca")
    again = prepare_ca(tmp_path / "ca")
    assert first.created and not again.created
    assert first.certificate.read_bytes() == again.certificate.read_bytes()
    assert _subject(first.certificate)


def _subject(path: Path) -> bool:
    from cryptography import x509

    return "csm-collector proxy CA" in x509.load_pem_x509_certificate(path.read_bytes()).subject.rfc4514_string()


def test_key_modes_are_enforced_at_every_start(tmp_path: Path) -> None:
    files = prepare_ca(tmp_path / "ca")
    (tmp_path / "ca").chmod(0o755)
    (tmp_path / "ca" / "mitmproxy-ca.pem").chmod(0o644)
    prepare_ca(tmp_path / "ca")
    assert mode(files.directory) == 0o700
    assert mode(files.directory / "mitmproxy-ca.pem") == mode(files.directory / "mitmproxy-ca.p12") == 0o600


def test_the_bundle_holds_the_system_cas_and_this_one_and_no_key(tmp_path: Path) -> None:
    files = prepare_ca(tmp_path / "ca")
    bundle = files.bundle.read_text()
    system = system_bundle()
    assert system is not None and system.read_text().strip().splitlines()[-1] in bundle
    assert bundle.endswith(files.certificate.read_text())
    assert "PRIVATE KEY" not in bundle and mode(files.bundle) == 0o644


def test_a_ca_directory_that_cannot_be_made_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    with pytest.raises(CaError):
        prepare_ca(tmp_path / "file" / "ca")


def test_a_new_secret_gets_the_generated_ca_and_a_replaced_host_loads_it(tmp_path: Path) -> None:
    import boto3
    from moto import mock_aws

    from collector_runtime.sources.proxy.ca_secret import sync_ca

    with mock_aws():
        client = boto3.client("secretsmanager", region_name="eu-west-1")
        client.create_secret(Name="proxy-ca", SecretString="a random placeholder the stack generated")
        assert sync_ca(tmp_path / "first", "proxy-ca", client) == "stored"
        assert "PRIVATE KEY" in client.get_secret_value(SecretId="proxy-ca")["SecretString"]
        assert sync_ca(tmp_path / "second", "proxy-ca", client) == "loaded"
    files = prepare_ca(tmp_path / "second")
    assert not files.created
    assert files.certificate.read_bytes() == (tmp_path / "first" / "mitmproxy-ca-cert.pem").read_bytes()
    assert mode(tmp_path / "second" / "mitmproxy-ca.pem") == 0o600 and mode(tmp_path / "second") == 0o700
