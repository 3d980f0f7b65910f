"""What the collector's log and live view say about a run: signals and what they wrote, datagrams dropped
by access control, the receive buffer as the kernel accounts it, a --max-policy-chars too small to keep."""

from __future__ import annotations

import logging
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from collector_runtime.core.policy_size import unsplittable_warning
from tests.conftest import call, datagram
from tests.helpers import read_json, running_collector, send, start_listen, unbuffered_lines, wait_for


@pytest.mark.slow
def test_signals_drops_and_the_receive_buffer_are_logged(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process, port = start_listen(
        out, "--flush-interval", "3600", "--allow-from", "10.0.0.0/8", "--receive-buffer", "65536"
    )
    for _ in range(3):
        send(port, datagram(call("SQS", "SendMessage", "worker")))  # from 127.0.0.1: not allowed
    process.send_signal(signal.SIGHUP)
    assert wait_for(lambda: (out / "stats.json").exists())
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    assert "SIGHUP received: writing all files now" in stderr and "SIGHUP: wrote" in stderr
    assert "SIGTERM received: stopping" in stderr and "SIGTERM: wrote" in stderr
    assert "dropped 3 datagrams from sources not in --allow-from and 0 over --rate-limit" in stderr
    stats = read_json(out / "stats.json")
    assert stats["csm"]["access"] == {"dropped_not_allowed": 3, "dropped_rate_limited": 0}
    if sys.platform.startswith("linux"):
        assert stats["csm"]["receive_buffer_granted"] == 2 * stats["csm"]["receive_buffer_usable"]
        assert (
            f"receive buffer: 65536 bytes requested, {stats['csm']['receive_buffer_usable']} set, reported as "
            in stderr
        )
        assert "(the kernel doubles the size it sets, for its bookkeeping)" in stderr
    assert "not allowed 3 | rate limited 0" in stdout  # the live view's last status line


def test_lines_after_the_start_up_line_stay_for_communicate() -> None:
    """The race behind the test above failing one run in two: the start-up line and the next ones arrive
    in one chunk; reading the start-up line must leave the others to `communicate()` (a buffered reader
    took them along, and they were missing from the captured stderr)."""
    writes_at_once = "import sys; sys.stderr.write('listening on 127.0.0.1:1/udp\\nreceive buffer: 1\\n')"
    process = subprocess.Popen([sys.executable, "-c", writes_at_once], stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    assert next(unbuffered_lines(process.stderr)) == "listening on 127.0.0.1:1/udp\n"
    _, stderr = process.communicate(timeout=30)
    assert stderr == "receive buffer: 1\n"


BIG = {
    "Version": "2012-10-17",
    "Statement": [
        {"Sid": "ObservedCalls", "Effect": "Allow", "Action": [f"s3:Get{i}" for i in range(40)], "Resource": "*"}
    ],
}


def test_a_max_policy_chars_below_one_statement_is_named() -> None:
    warning = unsplittable_warning("app", BIG, 60)
    assert warning and "--max-policy-chars 60 is below what one statement of workload 'app' needs" in warning
    assert unsplittable_warning("app", BIG, 200) is None  # splits fine
    assert unsplittable_warning("app", BIG, 100_000) is None  # no split at all


def test_the_collector_warns_once_naming_the_workload(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING, logger="csm_collector")
    with running_collector(tmp_path, flush_interval=3600, max_policy_chars=60) as service:
        send(service.sources["csm"].address[1], datagram(call("S3", "GetObject", "app")))
        assert wait_for(lambda: service.pipeline.counters()["calls"] == 1)
        service.flush()
        send(service.sources["csm"].address[1], datagram(call("S3", "PutObject", "app")))
        assert wait_for(lambda: service.pipeline.counters()["calls"] == 2)
        service.flush()
    warnings = [r.getMessage() for r in caplog.records if "below what one statement" in r.getMessage()]
    assert len(warnings) == 1 and "workload 'app'" in warnings[0]
