"""Shared helpers for tests that run a real collector."""

from __future__ import annotations

import json
import os
import re
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

from collector_runtime.collector import CollectorService
from collector_runtime.data import load_action_map
from collector_runtime.settings import ListenOptions, OutputOptions
from collector_runtime.sources.udp import UdpListener


def wait_for(condition: Callable[[], bool], timeout: float = 10.0, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


@contextmanager
def running_collector(
    output_dir: Path, *, publisher: Any = None, archive: Any = None, source_filter: Any = None, **overrides: Any
) -> Iterator[CollectorService]:
    """A collector on 127.0.0.1 (free port) in a thread; stopped (and flushed) on exit. `overrides` are
    ListenOptions fields, or OutputOptions fields (output_dir, policy, max_policy_chars, explain)."""
    output_fields = {k: overrides.pop(k) for k in list(overrides) if k in OutputOptions.__dataclass_fields__}
    output = OutputOptions(output_dir=output_dir, **output_fields)
    settings = replace(ListenOptions(port=0, quiet=True, output=output), **overrides)
    listener = UdpListener(settings.host, settings.port, receive_buffer=settings.receive_buffer)
    service = CollectorService(
        settings,
        load_action_map(),
        listener=listener,
        publisher=publisher,
        archive=archive,
        source_filter=source_filter,
    )
    thread = threading.Thread(target=service.run, daemon=True)
    thread.start()
    try:
        yield service
    finally:
        service.request_stop()
        thread.join(timeout=30)
        assert not thread.is_alive()


def send(port: int, *datagrams: bytes) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sender:
        for data in datagrams:
            sender.sendto(data, ("127.0.0.1", port))


STARTED: list[subprocess.Popen[str]] = []  # killed after each test (see conftest): a failed test leaks none


def start_listen(out: Path, *flags: str) -> tuple[subprocess.Popen[str], int]:
    """`csm-collector listen` as a real process on a free port; returns it and its port."""
    process = subprocess.Popen(
        [sys.executable, "-m", "collector_runtime", "listen", "--port", "0", "--output-dir", str(out), *flags],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    STARTED.append(process)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:  # other lines (a restored state, metrics) may come first
        seen.append(line)
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)/udp", line)
        if match:
            return process, int(match.group(1))
    raise AssertionError("the collector did not start:\n" + "".join(seen))


def start_otlp_listen(out: Path, *flags: str) -> tuple[subprocess.Popen[str], int, int]:
    """`csm-collector listen --otlp-port 0` as a real process; returns it, its UDP port and its OTLP/HTTP port."""
    argv = ["listen", "--port", "0", "--otlp-port", "0", "--output-dir", str(out), *flags]
    process = subprocess.Popen(
        [sys.executable, "-m", "collector_runtime", *argv],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    STARTED.append(process)
    assert process.stderr is not None
    seen, otlp = [], None
    for line in process.stderr:
        seen.append(line)
        found = re.search(r"OTLP/HTTP traces on http://127\.0\.0\.1:(\d+)/v1/traces", line)
        otlp = int(found.group(1)) if found else otlp
        match = re.search(r"listening on 127\.0\.0\.1:(\d+)/udp", line)
        if match and otlp:
            return process, int(match.group(1)), otlp
    raise AssertionError("the collector did not start:\n" + "".join(seen))


def policy_actions(document: dict[str, Any]) -> list[str]:
    """Every action a policy document grants, whatever statement it is in, sorted."""
    return sorted({action for statement in document["Statement"] for action in statement["Action"]})
