"""Every command, every ordinary mistake, as a user sees it from a real process: the README's exit status
(1 failure, 2 bad usage or input, 130 interrupted), one line on stderr saying what went wrong, no traceback.
A long-running command (listen, proxy) may have logged start-up lines first: its error is then the last
line, and the only one at ERROR."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import NamedTuple

import pytest

from tests.helpers import ROOT, wait_for

pytestmark = pytest.mark.slow
LOG_LINE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} (INFO|WARNING|ERROR) ")
# Runs the CLI as `-m collector_runtime` does, after making the modules named in argv[1] unimportable (as if
# an extra were not installed) and saying "started" on stderr once the CLI module is imported.
CLI = """
import sys
for name in filter(None, sys.argv[1].split(",")):
    sys.modules[name] = None
from collector_runtime.commands.cli import main
sys.stderr.write("started\\n")
sys.stderr.flush()
sys.exit(main(sys.argv[2:]))
"""
GARBAGE_PEM = "-----BEGIN CERTIFICATE-----\nbm90IGEgY2VydGlmaWNhdGU=\n-----END CERTIFICATE-----\n"


class Mistake(NamedTuple):
    argv: tuple[str, ...]  # {tmp}, {tcp} (a TCP port in use), {udp} (a UDP port in use) are filled in
    status: int
    says: str  # a fragment of the error line
    without: str = ""  # modules that cannot be imported (comma-separated)


def listen(*flags: str) -> tuple[str, ...]:
    return ("listen", "--port", "0", "--output-dir", "{tmp}/out", "--quiet", *flags)


def proxy(*flags: str) -> tuple[str, ...]:
    return ("proxy", "--port", "0", "--ca-dir", "{tmp}/ca", "--output-dir", "{tmp}/out", "--quiet", *flags)


def proxy_env(*flags: str) -> tuple[str, ...]:
    return ("proxy-env", "--ca-dir", "{tmp}/ca", *flags)


MISTAKES = {
    "listen: UDP port in use": Mistake(("listen", "--port", "{udp}", "--output-dir", "{tmp}/out"), 1, "in use"),
    "listen: metrics port in use": Mistake(listen("--metrics-port", "{tcp}"), 1, "cannot serve metrics on"),
    "listen: metrics host not an address": Mistake(listen("--metrics-port", "0", "--metrics-host", "bogus"), 2, "IP"),
    "listen: metrics host not local": Mistake(
        listen("--metrics-port", "0", "--metrics-host", "192.0.2.1"), 1, "cannot serve metrics on 192.0.2.1"
    ),
    "listen: OTLP port in use": Mistake(listen("--otlp-port", "{tcp}"), 1, "in use"),
    "listen: OTLP without its extra": Mistake(listen("--otlp-port", "0"), 1, "'.[otlp]'", without="opentelemetry"),
    "listen: negative OTLP decode workers": Mistake(
        listen("--otlp-port", "0", "--otlp-decode-workers", "-1"), 2, "--otlp-decode-workers: -1 is not a whole number"
    ),
    "listen: a process per core and then some": Mistake(
        listen("--otlp-port", "0", "--otlp-decode-workers", "100000"), 2, "100000 is more than 64 decode workers"
    ),
    "listen: infinite flush interval": Mistake(listen("--flush-interval", "inf"), 2, "--flush-interval"),
    "listen: infinite publish timeout": Mistake(listen("--publish-timeout", "inf"), 2, "--publish-timeout"),
    "listen: receive buffer past an int": Mistake(listen("--receive-buffer", "99999999999999999999"), 2, "buffer"),
    "listen: archive dir is a file": Mistake(
        listen("--archive", "--archive-dir", "{tmp}/file"), 1, "archive directory"
    ),
    "proxy: port in use": Mistake(proxy("--port", "{tcp}"), 1, "in use"),
    "proxy: address not local": Mistake(proxy("--host", "192.0.2.1"), 1, "cannot listen on 192.0.2.1"),
    "proxy: metrics port in use": Mistake(proxy("--metrics-port", "{tcp}"), 1, "cannot serve metrics on"),
    "proxy: metrics host not an address": Mistake(proxy("--metrics-port", "0", "--metrics-host", "bogus"), 2, "IP"),
    "proxy: without its extra": Mistake(proxy(), 1, "'.[proxy]'", without="mitmproxy"),
    "proxy: a garbage CA": Mistake(proxy("--ca-dir", "{tmp}/garbage-ca"), 2, "garbage-ca"),
    "proxy-env: without its extra": Mistake(proxy_env(), 1, "'.[proxy]'", without="mitmproxy"),
    "proxy-env: port 0": Mistake(proxy_env("--port", "0"), 2, "--port"),
    "proxy-env: a garbage CA": Mistake(proxy_env("--ca-dir", "{tmp}/garbage-ca"), 2, "garbage-ca"),
    "proxy-env: missing certificate": Mistake(proxy_env("--ca-certificate", "{tmp}/nope.pem"), 2, "nope.pem"),
    "proxy-env: certificate is a directory": Mistake(proxy_env("--ca-certificate", "{tmp}/dir"), 2, "dir"),
    "proxy-env: garbage certificate": Mistake(proxy_env("--ca-certificate", "{tmp}/garbage.pem"), 2, "garbage.pem"),
    "proxy-env: certificate not a certificate": Mistake(
        proxy_env("--ca-certificate", "{tmp}/file"), 2, "no PEM certificate"
    ),
    "set-ini: bad host": Mistake(("set-ini", "--csm-host", "bad host"), 2, "--csm-host"),
    "set-ini: port 0": Mistake(("set-ini", "--csm-port", "0"), 2, "--csm-port"),
    "set-ini: a client id of two lines": Mistake(("set-ini", "--csm-client-id", "a\nb = c"), 2, "--csm-client-id"),
    "set-ini: a profile that ends the section": Mistake(("set-ini", "--profile", "a]\n[b"), 2, "--profile"),
    "set-ini: config is a directory": Mistake(("set-ini", "--csm-port", "31000"), 2, "dir"),
    "unset-ini: config is not UTF-8": Mistake(("unset-ini",), 2, "latin1"),
    "report: since after until": Mistake(
        ("report", "--archive-dir", "{tmp}/dir", "--since", "2024-02-01", "--until", "2024-01-01"), 2, "--since"
    ),
    "report: without its extra": Mistake(("report", "--archive-dir", "{tmp}/dir"), 1, "'.[report]'", "duckdb"),
    "attach: bad host": Mistake(("attach", "fn", "--host", "bad host"), 2, "--host"),
    "attach: port 0": Mistake(("attach", "fn", "--host", "10.0.0.5", "--port", "0"), 2, "--port"),
    "attach: no region": Mistake(("attach", "fn", "--host", "10.0.0.5"), 2, "set AWS_DEFAULT_REGION"),
}
# Where the AWS config file is, for the commands that edit it.
AWS_CONFIG = {"set-ini: config is a directory": "{tmp}/dir", "unset-ini: config is not UTF-8": "{tmp}/latin1"}


@pytest.fixture(scope="module")
def ports_in_use() -> Iterator[dict[str, str]]:
    with socket.socket() as tcp, socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
        tcp.bind(("127.0.0.1", 0))
        tcp.listen()
        udp.bind(("127.0.0.1", 0))
        yield {"tcp": str(tcp.getsockname()[1]), "udp": str(udp.getsockname()[1])}


def prepare(tmp_path: Path) -> None:
    (tmp_path / "dir").mkdir()
    (tmp_path / "file").write_text("a file, not a directory nor a certificate\n")
    (tmp_path / "garbage.pem").write_text(GARBAGE_PEM)
    (tmp_path / "latin1").write_bytes(b"[default]\nregion = \xe9u-west-1\n")
    garbage_ca = tmp_path / "garbage-ca"
    garbage_ca.mkdir()
    for name in ("mitmproxy-ca.pem", "mitmproxy-ca-cert.pem"):
        (garbage_ca / name).write_text(GARBAGE_PEM)


def environment(tmp_path: Path, **extra: str) -> dict[str, str]:
    """No AWS settings of this machine, no CSM_COLLECTOR_* variables; the AWS config file in tmp_path."""
    kept = {k: v for k, v in os.environ.items() if not k.startswith(("AWS_", "CSM_COLLECTOR_"))}
    return {
        **kept,
        "PYTHONPATH": str(ROOT),
        "PYTHONUNBUFFERED": "1",
        "AWS_CONFIG_FILE": str(tmp_path / "aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "no-credentials"),
        "AWS_EC2_METADATA_DISABLED": "true",
        **extra,
    }


def cli(without: str, *argv: str) -> list[str]:
    return [sys.executable, "-c", CLI, without, *argv]


def assert_one_error_line(stderr: str, *, says: str) -> None:
    """One error line saying `says`, the last; before it only start-up log lines; no traceback."""
    lines = [line for line in stderr.splitlines() if line.strip() and line != "started"]
    assert "Traceback" not in stderr, stderr
    assert lines, "no error line"
    assert all(LOG_LINE.match(line) for line in lines), stderr  # no continuation lines, no bare messages
    assert [" ERROR " in line for line in lines] == [False] * (len(lines) - 1) + [True], stderr
    assert says in lines[-1], lines[-1]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("name", list(MISTAKES))
def test_an_ordinary_mistake_is_one_line_and_its_exit_status(
    name: str, tmp_path: Path, ports_in_use: dict[str, str]
) -> None:
    mistake = MISTAKES[name]
    prepare(tmp_path)
    values = {"tmp": str(tmp_path), **ports_in_use}
    argv = [part.format(**values) for part in mistake.argv]
    config = AWS_CONFIG.get(name, "{tmp}/aws-config").format(**values)
    result = subprocess.run(
        cli(mistake.without, *argv),
        capture_output=True,
        text=True,
        timeout=50,
        cwd=tmp_path,
        env=environment(tmp_path, AWS_CONFIG_FILE=config),
        stdin=subprocess.DEVNULL,
    )
    assert result.returncode == mistake.status, result.stderr
    if argv[0] not in ("listen", "proxy"):  # a short command says nothing else
        assert len([line for line in result.stderr.splitlines() if line.strip()]) == 2, result.stderr
    assert_one_error_line(result.stderr, says=mistake.says)


def interrupted(process: subprocess.Popen[str]) -> None:
    """Ctrl-C: exit 130 and one line; or, once a collector runs (its SIGINT handler installed), its
    orderly stop (the README: everything written, exit 0)."""
    process.send_signal(signal.SIGINT)
    _, stderr = process.communicate(timeout=30)
    if "SIGINT received: stopping" in stderr:
        assert process.returncode == 0 and "Traceback" not in stderr, stderr
        return
    assert process.returncode == 130, stderr
    assert_one_error_line(stderr, says="interrupted")


def started(tmp_path: Path, *argv: str) -> subprocess.Popen[str]:
    """The CLI as a process, once it has imported its entry point (it said "started")."""
    process = subprocess.Popen(
        cli("", *argv),
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=environment(tmp_path),
    )
    assert process.stderr is not None
    assert os.read(process.stderr.fileno(), 8) == b"started\n"  # unbuffered: nothing else is read
    return process


@pytest.mark.timeout(60)
@pytest.mark.parametrize("moment", [0.02, 0.1, 0.3])
@pytest.mark.parametrize("command", ["listen", "proxy", "replay", "compare"])
def test_ctrl_c_while_starting_is_130_and_one_line(command: str, moment: float, tmp_path: Path) -> None:
    """Ctrl-C at several moments while a command imports, reads its settings and starts: the proxy's first
    seconds (mitmproxy loads), listen before its signal handlers are installed."""
    prepare(tmp_path)
    argv = {
        "listen": listen(),
        "proxy": proxy(),
        "replay": ("replay", "-", "--output-dir", "{tmp}/out"),
        "compare": ("compare", "--observed", "{tmp}/fifo", "--policy-file", "{tmp}/file"),  # waits for a writer
    }[command]
    os.mkfifo(tmp_path / "fifo")
    process = started(tmp_path, *(part.format(tmp=tmp_path) for part in argv))
    time.sleep(moment)
    interrupted(process)


def reading_standard_input(pid: int) -> bool:
    """The process is blocked in read(2) on its standard input (Linux: /proc/PID/syscall)."""
    try:
        return Path(f"/proc/{pid}/syscall").read_text().startswith("0 0x0 ")
    except OSError:
        return False


@pytest.mark.timeout(60)
def test_ctrl_c_during_replay_of_a_slow_pipe_is_130(tmp_path: Path) -> None:
    process = started(tmp_path, "replay", "-", "--output-dir", str(tmp_path / "out"))
    assert process.stdin is not None
    process.stdin.write('{"Type": "ApiCall"}\n')
    process.stdin.flush()
    assert wait_for(lambda: reading_standard_input(process.pid), timeout=30)
    interrupted(process)
    assert not (tmp_path / "out" / "policy.json").exists()  # nothing half-written


@pytest.mark.timeout(90)
def test_ctrl_c_during_the_demo_workload_is_130(tmp_path: Path) -> None:
    process = started(tmp_path, "demo", "--output-dir", str(tmp_path / "demo"))
    assert process.stdout is not None
    assert "running the demo workload" in process.stdout.readline()
    interrupted(process)


def decode_workers_of(pid: int) -> list[int]:
    tasks = Path(f"/proc/{pid}/task")
    children = [int(child) for task in tasks.iterdir() for child in (task / "children").read_text().split()]
    return [child for child in children if b"decode_workers" in _cmdline(child) or b"spawn_main" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except OSError:
        return b""


@pytest.mark.timeout(60)
def test_ctrl_c_while_the_otlp_decode_worker_starts_is_one_line_and_leaves_no_process(tmp_path: Path) -> None:
    """A terminal's Ctrl-C reaches its whole process group: sent the moment `listen --otlp-port` has started its
    decode worker (which is still loading), it is 130 and one line (or the orderly stop), and the worker ends."""
    argv = [part.format(tmp=tmp_path) for part in listen("--otlp-port", "0")]
    env = environment(tmp_path)
    process = subprocess.Popen(
        cli("", *argv), stderr=subprocess.PIPE, text=True, cwd=tmp_path, env=env, start_new_session=True
    )
    deadline, worker = time.monotonic() + 30, []
    while not worker and process.poll() is None and time.monotonic() < deadline:
        worker = decode_workers_of(process.pid)
    assert worker, "listen started no decode worker"
    os.killpg(process.pid, signal.SIGINT)
    interrupted(process)
    assert wait_for(lambda: not Path(f"/proc/{worker[0]}").exists(), timeout=10)  # ended, and reaped
