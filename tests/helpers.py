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
from typing import IO, Any

from collector_runtime.collector import CollectorService
from collector_runtime.data import load_action_map
from collector_runtime.settings import ListenOptions, OutputOptions
from collector_runtime.sources.csm.source import CsmSource
from collector_runtime.sources.csm.udp import UdpListener


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
        sources=[CsmSource(listener, source_filter)],
        publisher=publisher,
        archive=archive,
    )
    with serving(service):
        yield service


@contextmanager
def otlp_collector(output_dir: Path, view: Any = None) -> Iterator[tuple[CollectorService, int]]:
    """A collector whose only source is an OTLP/HTTP receiver on a free port (as `listen --otlp-port` runs
    it, without CSM), in a thread; yields it and the receiver's port; stopped (and flushed) on exit."""
    from collector_runtime.sources.otlp.receiver import OtlpReceiver
    from collector_runtime.sources.otlp.source import OtlpSource

    settings = ListenOptions(port=0, quiet=True, flush_interval=3600, output=OutputOptions(output_dir=output_dir))
    service = CollectorService(settings, load_action_map(), view=view)
    receiver = OtlpReceiver("127.0.0.1", 0, service.aggregator.action_map, service.submit, max_request_bytes=1 << 20)
    service.add_source(OtlpSource(receiver))
    with serving(service):
        yield service, receiver.address[1]


@contextmanager
def serving(service: CollectorService) -> Iterator[CollectorService]:
    """`service.run` in a thread; stopped (and flushed) on exit, within 30 s."""
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


ROOT = Path(__file__).resolve().parent.parent


def without_aws_credentials(**extra: str) -> dict[str, str]:
    """This process's environment without any AWS credentials, config or instance metadata to find."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CSM_COLLECTOR_"))}
    missing = str(ROOT / "no-such-aws-file")
    return {
        **env,
        "AWS_CONFIG_FILE": missing,
        "AWS_SHARED_CREDENTIALS_FILE": missing,
        "AWS_EC2_METADATA_DISABLED": "true",
        "AWS_DEFAULT_REGION": "us-east-1",
        **extra,
    }


def run_cli(
    *args: str, moto: bool = False, env: dict[str, str] | None = None, timeout: float = 120, stdin: str = ""
) -> subprocess.CompletedProcess[str]:
    """`csm-collector ARGS` as a process (with `moto`: against moto in that process, see
    tests/commands/cli_under_moto.py); its status, stdout and stderr."""
    module = "tests.commands.cli_under_moto" if moto else "collector_runtime"
    return subprocess.run(
        [sys.executable, "-m", module, *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        cwd=ROOT,
        env=env if env is not None else {**os.environ, "PYTHONUNBUFFERED": "1"},
        input=stdin,
    )


def assert_one_error_line(result: subprocess.CompletedProcess[str], status: int, *fragments: str) -> str:
    """The command failed with `status` and said why in exactly one line on stderr, without a traceback."""
    lines = [line for line in result.stderr.splitlines() if line.strip()]
    assert result.returncode == status, result.stderr
    assert len(lines) == 1 and " ERROR " in lines[0], result.stderr
    assert "Traceback" not in result.stderr + result.stdout
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def unbuffered_lines(stream: IO[str]) -> Iterator[str]:
    """A process's output line by line, reading nothing past the line returned: `communicate()` reads the
    pipe itself, so whatever a buffered reader took beyond the start-up line (the next log lines, when
    they came in the same chunk) would be missing from what it returns."""
    line = bytearray()
    while chunk := os.read(stream.fileno(), 1):
        line += chunk
        if chunk == b"\n":
            yield line.decode()
            line.clear()
    if line:
        yield line.decode()


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
    for line in unbuffered_lines(process.stderr):  # other lines (a restored state, metrics) may come first
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
    for line in unbuffered_lines(process.stderr):
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
