"""Crashes, restarts, outages and hostile senders: intake goes on and nothing received is lost."""

from __future__ import annotations

import errno
import json
import logging
import re
import shutil
import signal
import socket
import subprocess
import sys
import urllib.request
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.core.aggregate import Limits
from collector_runtime.outputs import atomic as files_module
from collector_runtime.outputs.metrics import serve_metrics
from collector_runtime.settings.values import parse_networks
from collector_runtime.sources.source_filter import SourceFilter
from tests.conftest import assert_no_secrets, attempt, call, datagram, read_all_outputs
from tests.helpers import STARTED, policy_actions, read_json, running_collector, send, start_listen, wait_for

APIS = ["GetItem", "PutItem", "Query", "Scan", "DeleteItem", "UpdateItem", "DescribeTable", "ListTables"]


def start(out: Path, *extra: str) -> tuple[subprocess.Popen[str], int]:
    return start_listen(out, "--quiet", "--flush-interval", "0.3", "--archive", *extra)


def flushed_calls(out: Path) -> int:
    return int((read_json(out / "stats.json") or {}).get("csm", {}).get("api_call_events", -1))


@pytest.mark.slow
def test_kill_9_loses_at_most_the_last_flush_interval_and_restart_continues(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process, port = start(out)
    for i in range(400):
        send(
            port,
            datagram(attempt("DynamoDB", APIS[i % 4], f"svc-{i % 7}"), call("DynamoDB", APIS[i % 4], f"svc-{i % 7}")),
        )
    assert wait_for(lambda: flushed_calls(out) == 400)  # a flush has written all 400
    process.send_signal(signal.SIGKILL)
    process.wait(timeout=30)

    process, port = start(out)  # same output directory: continues from state.json
    for i in range(100):
        send(port, datagram(call("DynamoDB", APIS[4 + i % 4], f"svc-{i % 7}")))
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0, stderr
    stats = read_json(out / "stats.json")
    assert stats["csm"]["api_call_events"] == 500  # totals continue across the restart
    merged = policy_actions(read_json(out / "policy.json"))
    assert merged == sorted(f"dynamodb:{a}" for a in APIS)
    state = read_json(out / "state.json")
    assert sum(row[2] for w in state["workloads"].values() for row in w["calls"]) == 500
    archived = sum(len(p.read_bytes()) > 0 for p in (out / "archive").rglob("*.jsonl.gz"))
    assert archived >= 2 and not list((out / "archive").rglob(".*.part"))


@pytest.mark.slow
def test_sigterm_loses_nothing_even_between_flushes(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process, port = start(out, "--flush-interval", "3600")
    for i in range(300):
        send(port, datagram(call("SQS", "SendMessage", f"q-{i % 3}")))
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert flushed_calls(out) == 300
    lines = sum(
        len(__import__("gzip").decompress(p.read_bytes()).splitlines()) for p in (out / "archive").rglob("*.gz")
    )
    assert lines == 300


def test_a_corrupt_state_is_set_aside_not_fatal(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    from collector_runtime.core.aggregate import Aggregator
    from collector_runtime.data import load_action_map
    from collector_runtime.outputs.state_file import restore_state
    from collector_runtime.pipeline import Pipeline

    (tmp_path / "state.json").write_text('{"format": 2, "workloads": {"x": {"calls": [["S3"]]}}}')
    pipeline = Pipeline(Aggregator(load_action_map()))
    assert not restore_state(pipeline.restore, tmp_path)
    assert not (tmp_path / "state.json").exists()
    assert list(tmp_path.glob("state.json.unreadable-*")) and "set aside" in caplog.text


def test_full_disk_then_recovery_loses_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real_write = files_module.atomic_write
    failing = {"on": True}

    def write(path: Any, text: str, **kwargs: Any) -> None:
        if failing["on"]:
            raise OSError(errno.ENOSPC, "No space left on device")
        real_write(path, text, **kwargs)

    monkeypatch.setattr("collector_runtime.outputs.output_dir.atomic_write", write)
    caplog.set_level(logging.WARNING, logger="csm_collector")
    with running_collector(tmp_path, flush_interval=0.1) as service:
        port = service.sources["csm"].address[1]
        for i in range(50):
            send(port, datagram(call("SNS", "Publish", f"n-{i % 5}")))
        assert wait_for(lambda: service.sources["csm"].decoder.counters.api_call_events == 50)
        assert wait_for(lambda: service.writer.failed_flushes >= 3)  # several flushes failed ...
        send(port, datagram(call("SNS", "Subscribe", "n-0")))  # ... and intake went on
        assert wait_for(lambda: service.sources["csm"].decoder.counters.api_call_events == 51)
        failing["on"] = False
        assert wait_for(lambda: (read_json(tmp_path / "stats.json") or {}).get("csm", {}).get("api_call_events") == 51)
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and "No space left" in errors[0].getMessage()
    assert "works again" in caplog.text
    assert policy_actions(read_json(tmp_path / "policies" / "n-0.json")) == ["sns:Publish", "sns:Subscribe"]
    assert len(list((tmp_path / "policies").glob("n-*.json"))) == 5


def test_output_directory_removed_while_running(tmp_path: Path) -> None:
    out = tmp_path / "out"
    with running_collector(out, flush_interval=0.1) as service:
        send(service.sources["csm"].address[1], datagram(call("KMS", "Decrypt", "crypto")))
        assert wait_for(lambda: (out / "policies" / "crypto.json").exists())
        shutil.rmtree(out)
        send(service.sources["csm"].address[1], datagram(call("KMS", "Encrypt", "other")))
        assert wait_for(
            lambda: (out / "policies" / "crypto.json").exists() and (out / "policies" / "other.json").exists()
        )
    assert policy_actions(read_json(out / "policies" / "crypto.json")) == ["kms:Decrypt"]


def test_allow_list_drops_other_sources(tmp_path: Path) -> None:
    blocked = SourceFilter(allow=parse_networks("10.0.0.0/8"))
    with running_collector(tmp_path, source_filter=blocked, flush_interval=3600) as service:
        send(service.sources["csm"].address[1], datagram(call("S3", "ListBuckets", "outsider")))
        assert wait_for(lambda: blocked.counters.not_allowed == 1)
    assert "outsider" not in (read_json(tmp_path / "stats.json") or {}).get("workloads", {})
    assert read_json(tmp_path / "stats.json")["csm"]["access"]["dropped_not_allowed"] == 1
    allowed = SourceFilter(allow=parse_networks("127.0.0.0/8, ::1"))
    with running_collector(tmp_path / "b", source_filter=allowed, flush_interval=3600) as service:
        send(service.sources["csm"].address[1], datagram(call("S3", "ListBuckets", "insider")))
        assert wait_for(lambda: service.sources["csm"].decoder.counters.api_call_events == 1)


def test_a_noisy_sender_cannot_drown_a_quiet_one(tmp_path: Path) -> None:
    limiter = SourceFilter(rate=200.0)
    with running_collector(tmp_path, source_filter=limiter, flush_interval=3600) as service:
        port = service.sources["csm"].address[1]
        noisy = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        noisy.bind(("127.0.0.2", 0))
        quiet = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        quiet.bind(("127.0.0.3", 0))
        for i in range(3000):
            noisy.sendto(datagram(call("SQS", "SendMessage", "noisy")), ("127.0.0.1", port))
            if i % 300 == 0:
                quiet.sendto(datagram(call("SQS", "ReceiveMessage", "quiet")), ("127.0.0.1", port))
        assert wait_for(
            lambda: limiter.counters.rate_limited + service.sources["csm"].decoder.counters.datagrams_received >= 3010
        )
    usage = service.aggregator.workloads
    assert usage["quiet"].usage[("SQS", "ReceiveMessage")].calls == 10
    assert usage["noisy"].usage[("SQS", "SendMessage")].calls < 3000
    assert limiter.counters.rate_limited > 0


def test_limits_bound_memory_and_are_reported(tmp_path: Path) -> None:
    with running_collector(
        tmp_path, flush_interval=3600, limits=Limits(max_workloads=3, max_calls_per_workload=2)
    ) as s:
        for i in range(6):
            send(s.sources["csm"].address[1], datagram(call("DynamoDB", APIS[i % 4], f"w{i}")))
        for api in APIS:
            send(s.sources["csm"].address[1], datagram(call("DynamoDB", api, "w0")))
        assert wait_for(lambda: s.sources["csm"].decoder.counters.datagrams_received == 14)
    stats = read_json(tmp_path / "stats.json")
    assert len(stats["workloads"]) == 3
    assert stats["calls_dropped"] == {"workload_limit": 3, "call_limit": 6}


def test_metrics_and_health_endpoints() -> None:
    stats = {
        "datagrams_received": 10,
        "kernel_receive_drops": 2,
        "workloads": {"a": 1},
        "rejected_reasons": {"not_json": 3},
        "calls_dropped": {"call_limit": 4},
        "publishing": {"s3": {"pending": 1, "failures": 4, "in_outage": True}},
    }
    server = serve_metrics("127.0.0.1", 0, lambda: stats)
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        text = urllib.request.urlopen(f"{base}/metrics", timeout=5).read().decode()
        assert "csm_collector_datagrams_received_total 10" in text
        assert "csm_collector_kernel_receive_drops_total 2" in text
        assert 'csm_collector_rejected_total{reason="not_json"} 3' in text
        assert 'csm_collector_calls_dropped_total{reason="call_limit"} 4' in text
        assert 'csm_collector_publish_pending{target="s3"} 1' in text
        health = json.loads(urllib.request.urlopen(f"{base}/health", timeout=5).read())
        assert health["status"] == "degraded" and health["problems"] == ["s3 publishing failing"]
    finally:
        server.shutdown()


@pytest.mark.slow
def test_json_logs_and_metrics_of_a_real_process_hold_no_secret(tmp_path: Path) -> None:
    out = tmp_path / "out"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collector_runtime",
            "listen",
            "--port",
            "0",
            "--output-dir",
            str(out),
            "--log-format",
            "json",
            "--metrics-port",
            "0",
            "--archive",
        ],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    STARTED.append(process)
    assert process.stderr is not None
    lines = []
    port = None
    for line in process.stderr:
        lines.append(line)
        entry = json.loads(line)
        found = re.search(r"listening on 127\.0\.0\.1:(\d+)/udp", entry["message"])
        if found:
            port = int(found.group(1))
            break
    assert port is not None
    send(port, datagram(attempt("STS", "AssumeRole", "deployer"), call("STS", "AssumeRole", "deployer")))
    process.send_signal(signal.SIGTERM)
    stdout, stderr = process.communicate(timeout=30)
    logs = "".join(lines) + stderr
    assert all(json.loads(line)["level"] for line in logs.splitlines())
    archive = "".join(__import__("gzip").decompress(p.read_bytes()).decode() for p in out.rglob("*.gz"))
    assert_no_secrets(logs + stdout + read_all_outputs(out) + archive)
