"""`proxy-env` and the proxy's flags: the client set-up, and bad input refused before anything starts."""

from __future__ import annotations

import io
import re
import subprocess
from pathlib import Path

import pytest

from collector_runtime.commands.cli import main
from collector_runtime.settings import ProxyOptions, parse_options
from collector_runtime.sources.proxy.hosts import Upstream


def proxy_env(*flags: str) -> str:
    out = io.StringIO()
    assert main(["proxy-env", *flags], environ={}, out=out) == 0
    return out.getvalue()


def test_proxy_env_is_the_whole_client_set_up_and_makes_the_ca(tmp_path: Path) -> None:
    text = proxy_env("--ca-dir", str(tmp_path / "ca"), "--workload", "ci deploy", "--port", "10081")
    shown = subprocess.run(["sh", "-c", f"{text}\nenv"], capture_output=True, text=True, check=True).stdout
    variables = dict(line.split("=", 1) for line in shown.splitlines() if "=" in line)
    bundle, certificate = str(tmp_path / "ca" / "ca-bundle.pem"), str(tmp_path / "ca" / "mitmproxy-ca-cert.pem")
    assert variables["HTTPS_PROXY"] == variables["HTTP_PROXY"] == "http://ci%20deploy:x@127.0.0.1:10081"
    assert variables["SSL_CERT_FILE"] == variables["REQUESTS_CA_BUNDLE"] == bundle
    assert variables["AWS_CA_BUNDLE"] == variables["NODE_EXTRA_CA_CERTS"] == certificate
    assert "169.254.169.254" in variables["NO_PROXY"] and "127.0.0.1" in variables["no_proxy"]
    assert Path(bundle).is_file() and "keytool -importcert" in text


def test_the_aws_sdks_bundle_is_the_proxys_ca_alone(tmp_path: Path) -> None:
    """AWS SDKs reach only AWS hosts, which the proxy intercepts: one certificate to load per new connection
    (boto3 reloads its bundle for each), where the combined bundle has the system's ~140."""
    text = proxy_env("--ca-dir", str(tmp_path / "ca"))
    aws_bundle = Path(re.search(r"^export AWS_CA_BUNDLE=(\S+)$", text, re.MULTILINE)[1])  # type: ignore[index]
    system = (tmp_path / "ca" / "ca-bundle.pem").read_text().count("BEGIN CERTIFICATE")
    assert aws_bundle.read_text().count("BEGIN CERTIFICATE") == 1 < system
    assert aws_bundle.read_bytes() == (tmp_path / "ca" / "mitmproxy-ca-cert.pem").read_bytes()


def test_the_combined_bundle_for_aws_sdks_on_request(tmp_path: Path) -> None:
    """For an SDK whose custom endpoint is a host the proxy does not intercept (tunnelled, real certificate)."""
    text = proxy_env("--ca-dir", str(tmp_path / "ca"), "--aws-ca-bundle", "combined")
    assert f"export AWS_CA_BUNDLE={tmp_path / 'ca' / 'ca-bundle.pem'}\n" in text
    out = io.StringIO()
    assert main(["proxy-env", "--aws-ca-bundle", "all"], environ={}, out=out) == 2


def test_a_remote_proxys_certificate_is_trusted_without_a_ca_of_its_own(tmp_path: Path) -> None:
    from collector_runtime.sources.proxy.ca import prepare_ca

    remote = prepare_ca(tmp_path / "remote").certificate.read_bytes()
    (tmp_path / "client").mkdir()
    (tmp_path / "client" / "proxy-ca-cert.pem").write_bytes(remote)
    text = proxy_env("--ca-certificate", str(tmp_path / "client" / "proxy-ca-cert.pem"), "--host", "proxy.internal")
    bundle, certificate = tmp_path / "client" / "ca-bundle.pem", tmp_path / "client" / "proxy-ca-cert.pem"
    assert f"export SSL_CERT_FILE={bundle}" in text and "HTTPS_PROXY=http://proxy.internal:10080" in text
    assert f"export AWS_CA_BUNDLE={certificate}" in text
    assert bundle.read_bytes().endswith(remote) and not (tmp_path / "client" / "mitmproxy-ca.pem").exists()


def test_without_a_workload_no_user_is_sent(tmp_path: Path) -> None:
    assert "export HTTPS_PROXY=http://127.0.0.1:10080\n" in proxy_env("--ca-dir", str(tmp_path))


@pytest.mark.parametrize(
    "flags",
    [
        ["proxy-env", "--workload", "a:b"],
        ["proxy", "--upstream", "ftp://x"],
        ["proxy", "--upstream", "http://127.0.0.1:99999"],
        ["proxy", "--intercept-host", "(.*)"],
        ["proxy", "--allow-destination", "*.example.com"],
        ["proxy", "--allow-destination", "10.0.0.0/8:0"],
        ["proxy", "--port", "70000"],
        ["proxy", "--host", "not-an-ip"],
    ],
)
def test_bad_flags_are_refused_with_status_2(
    flags: list[str], tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    assert main([*flags, "--ca-dir", str(tmp_path)], environ={}) == 2
    [error] = [record.getMessage() for record in caplog.records if record.levelname == "ERROR"]
    assert flags[1] in error and "\n" not in error


def test_proxy_options_come_from_flags_and_environment(tmp_path: Path) -> None:
    environ = {
        "CSM_COLLECTOR_INTERCEPT_HOST": "*.aws.internal",
        "CSM_COLLECTOR_FLUSH_INTERVAL": "5",
        "CSM_COLLECTOR_ALLOW_DESTINATION": "10.0.0.0/8",
    }
    flags = ["proxy", "--upstream", "http://127.0.0.1:5000", "--output-dir", str(tmp_path), "--ca-dir", "~/x"]
    options = parse_options(flags, environ)
    assert isinstance(options, ProxyOptions)
    assert options.upstream == Upstream("http", "127.0.0.1", 5000)
    assert options.intercept_hosts == ("*.aws.internal",) and options.collector.flush_interval == 5
    assert options.allowed_destinations == ("10.0.0.0/8",)
    assert options.port == 10080 and options.ca_dir == Path("~/x").expanduser()


def test_a_proxy_that_cannot_listen_exits_1(tmp_path: Path) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = str(taken.getsockname()[1])
        flags = ["proxy", "--port", port, "--ca-dir", str(tmp_path / "ca"), "--output-dir", str(tmp_path / "out")]
        assert main([*flags, "--quiet"], environ={}) == 1


def test_the_aws_cli_v1_brings_its_own_botocore_and_leaves_boto3s_alone() -> None:
    import sys

    import botocore

    version = subprocess.run([str(Path(sys.executable).parent / "aws"), "--version"], capture_output=True, text=True)
    assert botocore.__version__ == "1.44.5"
    assert "aws-cli/1.46.3" in version.stdout + version.stderr and "botocore/1.43.62" in version.stdout + version.stderr
