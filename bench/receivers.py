"""The receivers the benchmark measures (the real `csm-collector listen` process and a baseline loop that
only receives), and the process that offers them datagrams at a fixed rate (bench/sender.py)."""

from __future__ import annotations

import json
import multiprocessing as mp
import os
import re
import signal
import subprocess
import sys
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sender import Sent, send_paced

ROOT = Path(__file__).resolve().parent.parent
TICK = os.sysconf("SC_CLK_TCK")
BASELINE = """
import signal, socket, sys
sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:  # the same buffer the collector gets (SO_RCVBUFFORCE is 33 on Linux)
    sock.setsockopt(socket.SOL_SOCKET, 33, int(sys.argv[2]))
except OSError:
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, int(sys.argv[2]))
sock.bind(("127.0.0.1", 0))
count = 0
def report(*_):
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(count))
    import os; os.replace(sys.argv[1] + ".tmp", sys.argv[1])
signal.signal(signal.SIGHUP, report)
print(sock.getsockname()[1], flush=True)
recv = sock.recv
while True:
    try:
        recv(65535)
        count += 1
    except InterruptedError:
        pass
"""


# --- processes ------------------------------------------------------------------------------------


@dataclass
class Receiver:
    name: str
    process: subprocess.Popen[bytes]
    port: int
    output: Path

    def cpu_seconds(self) -> float:
        fields = Path(f"/proc/{self.process.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / TICK

    def memory_kib(self, field_name: str) -> int:
        status = Path(f"/proc/{self.process.pid}/status").read_text()
        return int(re.search(rf"{field_name}:\s+(\d+) kB", status).group(1))  # type: ignore[union-attr]

    def counters(self) -> dict[str, Any]:
        """Ask for a write (SIGHUP) and wait for it: cumulative received count and kernel drops."""
        if self.name == "baseline":
            written = self.output.stat().st_mtime_ns if self.output.exists() else 0
            self.process.send_signal(signal.SIGHUP)
            wait(lambda: self.output.exists() and self.output.stat().st_mtime_ns != written)
            return {"received": int(self.output.read_text()), "kernel_drops": udp_drops(self.port)}
        stats_file = self.output / "stats.json"
        before = file_identity(stats_file)
        self.process.send_signal(signal.SIGHUP)
        # stats.json is replaced (a new file renamed over it) at every flush, written last: polling its
        # identity is cheap, where parsing it at every poll would take the CPU the flush needs.
        wait(lambda: file_identity(stats_file) != before)
        stats = read_json(stats_file)
        csm = stats["csm"]
        return {"received": csm["datagrams_received"], "kernel_drops": csm["kernel_receive_drops"], "stats": stats}

    def stop(self) -> None:
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()


def start_collector(out: Path, buffer: int, flush_interval: float = 3600, extra: tuple[str, ...] = ()) -> Receiver:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "collector_runtime",
            "listen",
            "--port",
            "0",
            "--quiet",
            "--output-dir",
            str(out),
            "--flush-interval",
            str(flush_interval),
            "--receive-buffer",
            str(buffer),
            *extra,
        ],
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    line = process.stderr.readline().decode()  # type: ignore[union-attr]
    port = int(re.search(r":(\d+)/udp", line).group(1))  # type: ignore[union-attr]
    return Receiver("collector", process, port, out)


def start_baseline(out: Path, buffer: int) -> Receiver:
    process = subprocess.Popen([sys.executable, "-c", BASELINE, str(out), str(buffer)], stdout=subprocess.PIPE)
    port = int(process.stdout.readline())  # type: ignore[union-attr]
    return Receiver("baseline", process, port, out)


def udp_drops(port: int) -> int | None:
    hex_port = f":{port:04X}"
    for line in Path("/proc/net/udp").read_text().splitlines()[1:]:
        columns = line.split()
        if columns[1].endswith(hex_port):
            return int(columns[12])
    return None


class DropWatch:
    """The kernel's drop counter of a receiver's port, read every SAMPLE_SECONDS from a thread of this process
    while the sender (a process of its own) runs: how many were dropped within the phase's first seconds."""

    SAMPLE_SECONDS = 0.1

    def __init__(self, port: int) -> None:
        self.port = port
        self.samples: list[tuple[float, int]] = []  # (seconds since start, drops so far)
        self._done = threading.Event()
        self._thread = threading.Thread(target=self._watch, daemon=True)

    def __enter__(self) -> DropWatch:
        self._started = time.perf_counter()
        self._thread.start()
        return self

    def __exit__(self, *_: object) -> None:
        self._done.set()
        self._thread.join()

    def _watch(self) -> None:
        while not self._done.wait(self.SAMPLE_SECONDS):
            self.samples.append((time.perf_counter() - self._started, udp_drops(self.port) or 0))

    def dropped_within(self, seconds: float) -> int:
        """Drops counted by the last sample taken within `seconds` of the start (0 if none was)."""
        return max((drops for at, drops in self.samples if at <= seconds), default=0)


def _send(
    port: int, pool: list[bytes], rate: int, seconds: float, limit: int, cpus: set[int] | None, result: Any
) -> None:
    pin(0, cpus)
    result.send(send_paced(port, pool, rate, seconds, limit))


def send(
    port: int, pool: list[bytes], rate: int, seconds: float, limit: int = 2**62, cpus: set[int] | None = None
) -> Sent:
    """`rate` datagrams/s (0 = flat out) for `seconds` or until `limit` are sent, from a process of its own
    (on `cpus`, if given): what it sent, when, and so the rate it reached."""
    receiving, sending = mp.Pipe(duplex=False)
    sender = mp.Process(target=_send, args=(port, pool, rate, seconds, limit, cpus, sending))
    sender.start()
    sending.close()
    try:
        sent: Sent | None = receiving.recv()
    except EOFError:  # the sender died before it reported
        sent = None
    sender.join()
    if sent is None:
        raise RuntimeError(f"the sender failed (exit status {sender.exitcode})")
    return sent


def pin(process_id: int, cpus: set[int] | None) -> None:
    if cpus:
        os.sched_setaffinity(process_id, cpus)


def wait(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("receiver did not answer")
        time.sleep(0.001)


def file_identity(path: Path) -> tuple[int, int] | None:
    try:
        status = path.stat()
    except OSError:
        return None
    return status.st_ino, status.st_mtime_ns


def read_json(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return document if isinstance(document, dict) else {}
