"""A loop that cannot be stalled unnoticed: /health answers 503 while the service loop does not turn, and
SIGTERM ends a process whose loop is stuck in a handler, after writing the files (timeouts are the
assertion for a hang)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.core.records import CSM, ObservedCall
from collector_runtime.limits import STOP_GRACE_SECONDS
from collector_runtime.loop_watch import LoopWatch, stall_threshold
from collector_runtime.outputs.metrics import serve_metrics
from tests.conftest import call, datagram
from tests.helpers import ROOT, STARTED, read_json, running_collector, send, wait_for


def health(port: int) -> tuple[int, dict[str, Any]]:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as error:
        return error.code, json.loads(error.read())


def test_the_stall_threshold_is_three_flush_intervals_and_at_least_30s() -> None:
    assert stall_threshold(5) == 30.0
    assert stall_threshold(60) == 180.0
    clock = [100.0]
    watch = LoopWatch(30.0, clock=lambda: clock[0])
    clock[0] += 30.5
    assert watch.stalled() and watch.since_turn() == 30.5
    watch.beat()
    assert not watch.stalled()


@pytest.mark.timeout(60)
def test_health_is_503_while_the_loop_is_stuck_and_200_once_it_turns_again(tmp_path: Path) -> None:
    with running_collector(tmp_path / "out") as service:
        service.watch.stall_after = 0.5
        release = threading.Event()
        add_calls = service.pipeline.add_calls

        def stuck(calls: Any) -> None:
            release.wait(30)
            add_calls(calls)

        service.pipeline.add_calls = stuck  # type: ignore[method-assign]
        server = serve_metrics("127.0.0.1", 0, service.metrics_snapshot)
        port = server.server_address[1]
        try:
            assert health(port)[0] == 200
            service.submit([ObservedCall("app", CSM, "SQS", "SendMessage")])
            assert wait_for(lambda: health(port)[0] == 503)
            body = health(port)[1]
            assert body["status"] == "stalled" and "has not turned" in body["problems"][0]
            release.set()
            assert wait_for(lambda: health(port)[0] == 200)
            assert health(port)[1]["status"] == "ok"
        finally:
            release.set()
            server.shutdown()


@pytest.mark.timeout(60)
def test_sigterm_ends_a_listen_whose_loop_is_stuck_and_writes_what_it_has(tmp_path: Path) -> None:
    out = tmp_path / "out"
    argv = ["listen", "--port", "0", "--quiet", "--flush-interval", "3600", "--output-dir", str(out)]
    process = subprocess.Popen(
        [sys.executable, "-m", "tests.stalled_listen", *argv],
        stderr=subprocess.PIPE,
        stdout=subprocess.DEVNULL,
        text=True,
        cwd=ROOT,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    STARTED.append(process)
    assert process.stderr is not None
    port = next(int(m.group(1)) for line in process.stderr if (m := re.search(r"127\.0\.0\.1:(\d+)/udp", line)))
    send(port, datagram(call("SQS", "SendMessage", "app")))
    send(port, datagram(call("SQS", "ReceiveMessage", "stall-here")))  # the loop never returns from this one
    threading.Event().wait(0.5)
    process.send_signal(signal.SIGTERM)
    status = process.wait(timeout=STOP_GRACE_SECONDS + 15)  # before the fix: never
    stderr = process.stderr.read()
    assert status == 1, stderr
    assert "did not stop within" in stderr and "Traceback" not in stderr
    assert read_json(out / "stats.json")["calls"] == 2  # written by the watchdog: nothing handled is lost
    assert read_json(out / "policies" / "app.json") is not None
