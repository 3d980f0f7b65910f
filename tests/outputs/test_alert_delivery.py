"""Delivery of alerts (outputs/alert_delivery.py, alert_sinks.py): a real webhook receiver on 127.0.0.1 that is
down, then up; a target that never comes back; a queue that overflows without blocking the caller."""

from __future__ import annotations

import json
import socket
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.outputs.alert_delivery import Delivery
from collector_runtime.outputs.alert_sinks import Event, FileSink, WebhookSink, event_envelope
from tests.helpers import wait_for


def events(count: int) -> list[Event]:
    detail = {"kind": "NewAction", "workload": "app", "resource": "*", "first_seen": None, "explain": "x"}
    return [event_envelope({**detail, "action": f"s3:Action{i}"}, "2026-12-06T00:00:00.000Z") for i in range(count)]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def serve(port: int, bodies: list[dict[str, Any]]) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            bodies.append(json.loads(self.rfile.read(int(self.headers["Content-Length"]))))
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


@pytest.mark.timeout(60)
def test_a_webhook_that_is_down_gets_every_event_once_it_is_back() -> None:
    port = free_port()
    delivery = Delivery(WebhookSink(f"http://127.0.0.1:{port}/alerts"), retry_window=30, first_backoff=0.05)
    sent = events(25)
    for event in sent:
        assert delivery.offer(event)
    assert wait_for(lambda: delivery.status()["failed_attempts"] >= 3)
    assert delivery.status()["in_outage"] and delivery.status()["pending"] == 25
    bodies: list[dict[str, Any]] = []
    server = serve(port, bodies)
    try:
        assert wait_for(lambda: delivery.status()["sent"] == 25, timeout=30)
        assert bodies == sent  # nothing lost, nothing twice, in order
        assert delivery.status() | {"failed_attempts": 0, "retried": 0} == {
            "sent": 25,
            "overflow": 0,
            "failed_attempts": 0,
            "retried": 0,
            "expired": 0,
            "pending": 0,
            "in_outage": False,
        }
    finally:
        server.shutdown()
        delivery.close(1)


@pytest.mark.timeout(60)
def test_past_the_retry_window_events_are_dropped_and_counted() -> None:
    delivery = Delivery(WebhookSink(f"http://127.0.0.1:{free_port()}/"), retry_window=0.3, first_backoff=0.05)
    for event in events(3):
        delivery.offer(event)
    assert wait_for(lambda: delivery.status()["expired"] == 3)
    assert delivery.status()["pending"] == 0 and delivery.status()["sent"] == 0
    assert delivery.close(1)


class StuckSink:
    name = "stuck"

    def __init__(self) -> None:
        self.release = threading.Event()
        self.got: list[Event] = []

    def send(self, batch: list[Event]) -> list[Event]:
        self.release.wait(30)
        self.got += batch
        return []


@pytest.mark.timeout(30)
def test_a_stuck_target_never_blocks_the_caller_and_overflow_is_counted() -> None:
    sink = StuckSink()
    delivery = Delivery(sink, max_queue=5)
    sent = events(50)
    assert delivery.offer(sent[0])
    assert wait_for(lambda: delivery.status()["pending"] == 1 and delivery._queue.empty())  # taken, stuck
    accepted = [delivery.offer(event) for event in sent[1:]]
    assert accepted == [True] * 5 + [False] * 44
    assert delivery.status()["overflow"] == 44
    sink.release.set()
    assert wait_for(lambda: delivery.status()["sent"] == 6)
    assert sink.got == sent[:6]
    delivery.close(1)


def test_the_file_sink_appends_json_lines(tmp_path: Path) -> None:
    sink, sent = FileSink(tmp_path / "out" / "alerts.jsonl"), events(3)
    assert sink.send(sent[:2]) == [] and sink.send(sent[2:]) == []
    assert [json.loads(line) for line in (tmp_path / "out" / "alerts.jsonl").read_text().splitlines()] == sent
