"""`listen` fails fast at start, with one line and exit 1, when it could only fail later: an output directory
it cannot write, or publishing that cannot work (no credentials, a bucket that does not exist or cannot
be reached). Real processes; AWS is moto in the collector's own process (tests/commands/cli_under_moto.py)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from tests.helpers import ROOT, STARTED, assert_one_error_line, run_cli, without_aws_credentials

pytestmark = pytest.mark.slow


def listen(tmp_path: Path, *flags: str, **kwargs: object) -> subprocess.CompletedProcess[str]:
    return run_cli("listen", "--port", "0", "--output-dir", str(tmp_path / "out"), *flags, **kwargs)  # type: ignore[arg-type]


@pytest.mark.skipif(not Path("/sys").is_dir(), reason="needs Linux's /sys, a directory no one can write to")
def test_an_output_directory_that_cannot_be_written(tmp_path: Path) -> None:
    # /sys refuses new files even to root, whose permission bits always say yes: the check really writes.
    result = run_cli("listen", "--port", "0", "--output-dir", "/sys")
    assert_one_error_line(result, 1, "cannot write to the output directory /sys")


def test_a_bucket_that_does_not_exist(tmp_path: Path) -> None:
    started = time.monotonic()
    result = listen(tmp_path, "--s3-bucket", "no-such-bucket", "--publish-timeout", "60", moto=True)
    assert_one_error_line(result, 1, "S3 bucket 'no-such-bucket' not found")
    assert time.monotonic() - started < 30  # at start, not after a publish timeout


def test_no_credentials(tmp_path: Path) -> None:
    for target in (["--s3-bucket", "results"], ["--ssm-prefix", "/csm"]):
        result = listen(tmp_path, *target, env=without_aws_credentials())
        assert_one_error_line(result, 1, "no usable AWS credentials", "AWS_ACCESS_KEY_ID")


def test_aws_that_cannot_be_reached(tmp_path: Path) -> None:
    env = without_aws_credentials(
        AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="x", AWS_ENDPOINT_URL="http://127.0.0.1:9"
    )  # nothing listens on the discard port
    result = listen(tmp_path, "--s3-bucket", "results", env=env)
    assert_one_error_line(result, 1, "publishing", "Could not connect to the endpoint URL")


def test_a_bucket_that_exists_starts_and_stops_cleanly(tmp_path: Path) -> None:
    argv = ["listen", "--port", "0", "--output-dir", str(tmp_path / "out"), "--s3-bucket", "results", "--quiet"]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.commands.cli_under_moto", *argv],
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    STARTED.append(process)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        if re.search(r"listening on 127\.0\.0\.1:\d+/udp", line):
            break
    assert any("publishing to s3://results/csm-collector/" in line for line in seen), seen
    process.send_signal(signal.SIGTERM)
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 0, "".join(seen) + rest


def test_a_collector_loads_no_http_server_or_tls_it_was_not_asked_for() -> None:
    """http.server (with email and ssl) is ~8 MiB resident: loaded only with --metrics-port, --otlp-port or a
    webhook, never by the default `listen` (the memory figure of docs/performance.md counts on it); nor is
    importlib.metadata, which only an install hint (an error) needs."""
    probe = (
        "import sys; from collector_runtime.commands import cli, listen; "
        "print(sorted(m for m in ('http.server', 'http.client', 'ssl', 'urllib.request', 'importlib.metadata') "
        "if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]"
