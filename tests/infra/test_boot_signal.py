"""The EC2 boot script's signal to CloudFormation, run in bash: fake `systemctl` and `ss` play the collector,
real curl PUTs to a local server standing in for the wait condition handle's presigned S3 URL."""

from __future__ import annotations

import json
import subprocess
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from stacks.boot_signal import readiness_commands, signal_setup

pytestmark = pytest.mark.slow

SERVICE = "csm-collector"
PORT = 31000
# systemctl is-active/show and ss answer from files the test writes: state, main-pid(s), listening.
FAKE_SYSTEMCTL = """#!/bin/bash
state=$(cat "$FAKE_STATE/state")
case "$1" in
  is-active) echo "$state"; [ "$state" = active ] ;;
  show) if [ -s "$FAKE_STATE/pids" ]; then head -n 1 "$FAKE_STATE/pids"; sed -i 1d "$FAKE_STATE/pids";
        else cat "$FAKE_STATE/main-pid"; fi ;;
esac
"""
FAKE_SS = '#!/bin/bash\n[ -e "$FAKE_STATE/listening" ] && echo "UNCONN 0 0 0.0.0.0:31000 0.0.0.0:*"\nexit 0\n'


class Handle(BaseHTTPRequestHandler):
    received: list[dict[str, Any]]

    def do_PUT(self) -> None:
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.received.append({"path": self.path, "headers": dict(self.headers), "body": json.loads(body)})
        self.send_response(200)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        return


@pytest.fixture
def handle() -> Iterator[tuple[str, list[dict[str, Any]]]]:
    """A local stand-in for the presigned URL; yields the URL and the signals it received."""
    received: list[dict[str, Any]] = []
    server = HTTPServer(("127.0.0.1", 0), type("Recorder", (Handle,), {"received": received}))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/signal?X-Amz-Signature=abc&x=1", received
    server.shutdown()
    thread.join(timeout=10)


def run_boot(
    tmp_path: Path, url: str, middle: list[str], *, fake_curl: str | None = None, **collector: str
) -> subprocess.CompletedProcess[str]:
    """STRICT_MODE, the signal setup, `middle` (the boot steps), the readiness check; with a fake collector."""
    fakes = tmp_path / "bin"
    fakes.mkdir()
    scripts = [("systemctl", FAKE_SYSTEMCTL), ("ss", FAKE_SS), ("sleep", "#!/bin/bash\nexit 0\n")]
    for name, script in [*scripts, *([("curl", fake_curl)] if fake_curl else [])]:
        (fakes / name).write_text(script)
        (fakes / name).chmod(0o755)
    for name, content in {"state": "active", "main-pid": "1234", **collector}.items():
        (tmp_path / name.replace("_", "-")).write_text(content)
    log_file = tmp_path / "log" / "collector.log"
    log_file.parent.mkdir()
    log_file.write_text(
        "INFO starting\n"
        "ERROR publishing to AWS needs boto3: pip install -e '.[aws]' from the repository root (or make setup)\n"
    )
    lines = ["set -euo pipefail", *signal_setup(url, str(log_file)), *middle]
    lines += readiness_commands(service=SERVICE, port=PORT, log_file=str(log_file), timeout_seconds=20)
    return subprocess.run(
        ["bash", "-c", "\n".join(lines)],
        env={"PATH": f"{fakes}:/usr/bin:/bin", "FAKE_STATE": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_a_collector_that_stays_up_and_listening_signals_success(
    tmp_path: Path, handle: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = handle
    completed = run_boot(tmp_path, url, ["echo booted"], listening="")
    assert completed.returncode == 0, completed.stderr
    (signal,) = received
    assert signal["path"] == "/signal?X-Amz-Signature=abc&x=1"  # the presigned URL, query intact
    assert signal["body"] == {
        "Status": "SUCCESS",
        "Reason": "csm-collector is active and listening on UDP port 31000",
        "UniqueId": "csm-collector",
        "Data": "csm-collector is active and listening on UDP port 31000",
    }
    assert "Content-Type" not in signal["headers"]  # the URL is signed without one


def test_a_collector_that_never_listens_signals_failure_with_its_last_log_lines(
    tmp_path: Path, handle: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = handle
    completed = run_boot(tmp_path, url, [], state="failed", main_pid="0")
    assert completed.returncode == 1
    (signal,) = received
    assert signal["body"]["Status"] == "FAILURE"
    reason = signal["body"]["Reason"]
    assert reason.startswith("csm-collector is not active and listening on UDP port 31000 after 20 s (systemd: failed)")
    assert "ERROR publishing to AWS needs boto3" in reason
    log = (tmp_path / "log" / "collector.log").read_text()
    assert "csm-collector boot: FAILURE: csm-collector is not active" in log  # the reason in the shipped log too
    assert "csm-collector boot: FAILURE:" in completed.stderr  # and in the boot output (console)


def test_a_collector_that_binds_and_exits_again_and_again_is_not_up(
    tmp_path: Path, handle: tuple[str, list[dict[str, Any]]]
) -> None:
    """Restart=on-failure: active and bound for a moment, with a new main PID each time."""
    url, received = handle
    pids = "\n".join(str(1000 + n) for n in range(40)) + "\n"
    completed = run_boot(tmp_path, url, [], listening="", pids=pids)
    assert completed.returncode == 1
    assert [signal["body"]["Status"] for signal in received] == ["FAILURE"]


def test_a_failing_boot_step_signals_failure_naming_it_once(
    tmp_path: Path, handle: tuple[str, list[dict[str, Any]]]
) -> None:
    url, received = handle
    completed = run_boot(tmp_path, url, ["echo unpacking", "false # unzip the package"], listening="")
    assert completed.returncode == 1
    (signal,) = received
    assert signal["body"]["Status"] == "FAILURE"
    assert signal["body"]["Reason"] == "boot script failed (exit 1) at: false"


def test_a_signal_that_cannot_be_sent_does_not_fail_a_collector_that_is_up(tmp_path: Path) -> None:
    """A later reboot signals a handle whose presigned URL has expired (curl: HTTP 403 after its retries)."""
    fake_curl = '#!/bin/bash\ncat > /dev/null\necho "curl: (22) The requested URL returned error: 403" >&2\nexit 22\n'
    completed = run_boot(tmp_path, "https://expired.invalid/", [], fake_curl=fake_curl, listening="")
    assert completed.returncode == 0
    assert "could not send the SUCCESS signal to CloudFormation" in completed.stderr
