"""`csm-collector listen` as a real process: signals, exit codes, files."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import assert_no_secrets, attempt, call, datagram, read_all_outputs
from tests.helpers import policy_actions, read_json, send, start_listen, wait_for

pytestmark = pytest.mark.slow


def start(tmp_path: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    return start_listen(tmp_path / "out", "--flush-interval", "3600", *extra)


def test_sighup_writes_and_keeps_running_sigterm_exits_zero_with_everything(tmp_path: Path) -> None:
    process, port = start(tmp_path)
    out = tmp_path / "out"
    try:
        send(port, datagram(attempt("SQS", "ReceiveMessage", "worker"), call("SQS", "ReceiveMessage", "worker")))
        process.send_signal(signal.SIGHUP)
        assert wait_for(lambda: (out / "policies" / "worker.json").exists())
        assert process.poll() is None
        for i in range(500):
            send(port, datagram(call("KMS", "Decrypt", f"svc-{i % 5}")))
        process.send_signal(signal.SIGTERM)
        stdout, stderr = process.communicate(timeout=30)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 0
    stats = read_json(out / "stats.json")
    assert stats["csm"]["api_call_events"] == 501
    assert policy_actions(read_json(out / "policies" / "svc-4.json")) == ["kms:Decrypt"]
    assert_no_secrets(read_all_outputs(out) + stdout + stderr)


def test_live_view_is_printed_unless_quiet(tmp_path: Path) -> None:
    process, port = start(tmp_path)
    send(port, datagram(call("SecretsManager", "GetSecretValue", "api")))
    send(port, datagram(call("Secrets Manager", "GetSecretValue", "api")))
    process.send_signal(signal.SIGINT)
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    assert "secretsmanager:GetSecretValue" in stdout
    assert "[csm-collector]" in stdout

    quiet, port = start(tmp_path, "--quiet")
    send(port, datagram(call("Secrets Manager", "GetSecretValue", "api")))
    quiet.send_signal(signal.SIGTERM)
    stdout, _ = quiet.communicate(timeout=30)
    assert quiet.returncode == 0 and stdout == ""


def test_port_in_use_is_a_clear_error(tmp_path: Path) -> None:
    process, port = start(tmp_path)
    try:
        second = subprocess.run(
            [
                sys.executable,
                "-m",
                "collector_runtime",
                "listen",
                "--port",
                str(port),
                "--output-dir",
                str(tmp_path / "o2"),
            ],
            capture_output=True,
            text=True,
            timeout=30,
        )
        assert second.returncode == 1
        assert f"cannot listen on 127.0.0.1:{port}/udp" in second.stderr
    finally:
        process.terminate()
        process.communicate(timeout=30)
