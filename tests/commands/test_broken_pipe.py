"""A reader that goes away early (`... | head`) ends a command quietly: no BrokenPipe traceback, exit 0;
`listen` keeps collecting without its live view."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from collector_runtime.core.mapping import ActionMap
from tests.commands.test_report import archive
from tests.conftest import call, datagram
from tests.helpers import ROOT, policy_actions, read_json, send, start_listen, wait_for

pytestmark = pytest.mark.slow
MANY = [datagram(call("S3", f"NoSuchApi{i}", f"app-{i % 10}")) for i in range(3000)]  # ~300 KB of explain


def piped_into_head(*args: str) -> subprocess.CompletedProcess[str]:
    command = " ".join(shlex.quote(a) for a in (sys.executable, "-m", "collector_runtime", *args))
    return subprocess.run(
        ["bash", "-c", f"set -o pipefail; {command} | head -n 2 >/dev/null"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )


def assert_quiet(result: subprocess.CompletedProcess[str]) -> None:
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr and "BrokenPipe" not in result.stderr, result.stderr


def test_explain_output_dir_into_head(tmp_path: Path) -> None:
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"\n".join(MANY) + b"\n")
    out = tmp_path / "out"
    assert (
        subprocess.run(
            [sys.executable, "-m", "collector_runtime", "replay", str(capture), "--output-dir", str(out)],
            capture_output=True,
            cwd=ROOT,
        ).returncode
        == 0
    )
    assert_quiet(piped_into_head("explain", "--output-dir", str(out)))
    assert_quiet(piped_into_head("replay", str(capture), "--output-dir", str(out), "--explain"))


def test_report_explain_into_head(tmp_path: Path, action_map: ActionMap) -> None:
    archive(tmp_path / "arch", MANY, action_map, 1795303566.0)
    result = piped_into_head(
        "report", "--archive-dir", str(tmp_path / "arch"), "--output-dir", str(tmp_path / "o"), "--explain"
    )
    assert_quiet(result)


def test_compare_to_a_reader_that_closed_before_it_wrote(tmp_path: Path) -> None:
    policy = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:*", "Resource": "*"}]}
    (tmp_path / "p.json").write_text(json.dumps(policy))
    argv = ["compare", "--observed", str(tmp_path / "p.json"), "--policy-file", str(tmp_path / "p.json")]
    process = subprocess.Popen(
        [sys.executable, "-m", "collector_runtime", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    assert process.stdout is not None
    process.stdout.close()  # the reader is gone before the command writes a byte
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "BrokenPipe" not in stderr, stderr


def test_listen_goes_on_collecting_when_its_live_view_reader_goes_away(tmp_path: Path) -> None:
    process, port = start_listen(tmp_path / "out", "--flush-interval", "3600")
    assert process.stdout is not None
    process.stdout.close()
    send(port, datagram(call("SQS", "SendMessage", "worker")))
    process.send_signal(signal.SIGHUP)
    assert wait_for(lambda: (tmp_path / "out" / "policies" / "worker.json").exists())
    send(port, datagram(call("KMS", "Decrypt", "worker")))
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "Traceback" not in stderr and "no more live view" in stderr
    assert policy_actions(read_json(tmp_path / "out" / "policies" / "worker.json")) == [
        "kms:Decrypt",
        "sqs:SendMessage",
    ]
