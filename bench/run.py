"""Fleet-scale benchmark of the collector on this machine, over loopback UDP.

In one run it measures, for the real `csm-collector listen` process and for a baseline receiver (a
minimal Python loop that only receives datagrams: the ceiling for a Python collector):
  - loss (datagrams received vs sent, and the kernel's drop counter) at fixed rates and flat out;
  - events processed per second, CPU used;
  - flush time (SIGHUP to all files written) with 1M events from 1,000 workloads;
  - peak RSS after 1M and 10M events;
  - the delay from a datagram's arrival to its action appearing in the policy files.
It prints one table and writes its figures to bench/results/local/latest.json (and appends them to
history.jsonl there; that folder is ignored by git, so a run leaves the work tree clean). With
--save-reference it also replaces the committed bench/results/reference.json, which the README's
figures come from: do that only in a change that means to update them.

Usage: python bench/run.py [--quick] [--seconds 10] [--rates 10000,50000,100000,150000]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import multiprocessing as mp
import os
import platform
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from workload import datagram_pool, marker

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results" / "local"  # ignored by git
REFERENCE = ROOT / "bench" / "results" / "reference.json"  # committed: the README's figures
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
            before = self.output.stat().st_mtime_ns if self.output.exists() else 0
            self.process.send_signal(signal.SIGHUP)
            _wait(lambda: self.output.exists() and self.output.stat().st_mtime_ns != before)
            return {"received": int(self.output.read_text()), "kernel_drops": udp_drops(self.port)}
        stats_file = self.output / "stats.json"
        before = _read_json(stats_file).get("flush_count", -1)
        self.process.send_signal(signal.SIGHUP)
        _wait(lambda: _read_json(stats_file).get("flush_count", -1) > before)
        stats = _read_json(stats_file)
        return {"received": stats["datagrams_received"], "kernel_drops": stats["kernel_receive_drops"], "stats": stats}

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


def _send(port: int, pool: list[bytes], rate: int, seconds: float, limit: int, result: Any) -> None:
    """Sender process: `rate` datagrams/s (0 = flat out) for `seconds` or until `limit` are sent,
    paced every half millisecond."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    send, address, size = sock.sendto, ("127.0.0.1", port), len(pool)
    start = time.perf_counter()
    deadline, sent, index = start + seconds, 0, 0
    while True:
        now = time.perf_counter()
        if now >= deadline:
            break
        target = min(int((now - start) * rate) if rate else sent + 2000, limit)
        if sent >= limit:
            break
        while sent < target:
            send(pool[index], address)
            index = index + 1 if index + 1 < size else 0
            sent += 1
        if rate:
            time.sleep(0.0005)
    result.value = sent
    sock.close()


def send(port: int, pool: list[bytes], rate: int, seconds: float, limit: int = 2**62) -> tuple[int, float]:
    result = mp.Value("q", 0)
    sender = mp.Process(target=_send, args=(port, pool, rate, seconds, limit, result))
    started = time.perf_counter()
    sender.start()
    sender.join()
    return int(result.value), time.perf_counter() - started


def _wait(condition: Any, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise TimeoutError("receiver did not answer")
        time.sleep(0.001)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return {}


# --- scenarios ------------------------------------------------------------------------------------


@dataclass
class RateResult:
    receiver: str
    target_rate: int
    sent: int
    received: int
    kernel_drops: int
    seconds: float
    cpu_percent: float

    @property
    def lost(self) -> int:
        return self.sent - self.received

    @property
    def zero_loss(self) -> bool:
        return self.lost == 0 and self.kernel_drops == 0

    def row(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "lost": self.lost,
            "zero_loss": self.zero_loss,
            "received_per_second": round(self.received / self.seconds),
        }


def run_rate(receiver: Receiver, pool: list[bytes], rate: int, seconds: float) -> RateResult:
    before, cpu_before, wall_before = receiver.counters(), receiver.cpu_seconds(), time.perf_counter()
    sent, elapsed = send(receiver.port, pool, rate, seconds)
    time.sleep(0.5)  # let the receiver empty its queue
    after, cpu_after, wall_after = receiver.counters(), receiver.cpu_seconds(), time.perf_counter()
    drops = (after["kernel_drops"] or 0) - (before["kernel_drops"] or 0)
    cpu = round(100 * (cpu_after - cpu_before) / (wall_after - wall_before), 1)
    return RateResult(receiver.name, rate, sent, after["received"] - before["received"], drops, elapsed, cpu)


def rate_sweep(
    kind: str, pool: list[bytes], rates: list[int], seconds: float, buffer: int, tmp: Path
) -> list[RateResult]:
    results = []
    for rate in [*rates, 0]:
        if kind == "baseline":
            receiver = start_baseline(tmp / f"base-{rate}", buffer)
        else:  # "collector" or "archive" (the collector with the raw-event archive on)
            extra = ("--archive",) if kind == "archive" else ()
            receiver = start_collector(tmp / f"{kind}-{rate}", buffer, extra=extra)
        try:
            results.append(run_rate(receiver, pool, rate, seconds))
        finally:
            receiver.stop()
        print(f"  {kind:9} {rate or 'flat out':>9}: {results[-1].row()}", flush=True)
    return results


@dataclass
class ScaleResult:
    events: list[int] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)
    first_flush_ms: float | None = None
    first_flush_self_reported_ms: float | None = None
    files_in_first_flush: int | None = None
    steady_flush_ms: float | None = None
    steady_flush_self_reported_ms: float | None = None
    flush_baseline_ms: float | None = None
    first_flush_without_idle_ms: float | None = None
    render_ahead_ms: float | None = None
    workloads: int | None = None


def scale_run(checkpoints: list[int], buffer: int, tmp: Path) -> ScaleResult:
    """1,000 workloads: peak RSS at each checkpoint; then the first-flush time on a fresh collector."""
    pool = datagram_pool(200_000, clients=1000, seed=11)
    collector = start_collector(tmp / "scale", buffer)
    result = ScaleResult()
    sent_total = 0
    try:
        for checkpoint in checkpoints:
            remaining = checkpoint - sent_total
            sent_total += send(collector.port, pool, 100_000, remaining / 100_000 + 30, limit=remaining)[0]
            counters = collector.counters()  # also a flush: the next one measures a steady-state SIGHUP
            result.events.append(counters["received"])
            result.peak_rss_mib.append(round(collector.memory_kib("VmHWM") / 1024, 1))
            result.workloads = len(counters["stats"]["workloads"])
    finally:
        collector.stop()
    flush_times(result, tmp)
    return result


def flush_times(result: ScaleResult, tmp: Path) -> None:
    """SIGHUP -> every file written, with 1M events from 1,000 workloads received: first for a
    collector that has written nothing yet (every policy file is new: the worst case), then again
    after 100,000 more events (steady state: only what changed is rewritten)."""
    pool = datagram_pool(200_000, clients=1000, seed=11)
    collector = start_collector(tmp / "flush", 32 << 20)
    stats_file = collector.output / "stats.json"
    try:
        send(collector.port, pool, 100_000, 60.0, limit=1_000_000)
        time.sleep(0.5)
        started = time.perf_counter()
        collector.process.send_signal(signal.SIGHUP)
        _wait(stats_file.exists)
        result.first_flush_ms = round((time.perf_counter() - started) * 1000, 1)
        result.files_in_first_flush = sum(1 for _ in collector.output.rglob("*.json"))
        result.flush_baseline_ms = write_baseline(collector.output, tmp / "flush-baseline")
        send(collector.port, pool, 100_000, 60.0, limit=100_000)
        time.sleep(0.5)
        started = time.perf_counter()
        stats = collector.counters()["stats"]  # SIGHUP and wait for the write
        result.steady_flush_ms = round((time.perf_counter() - started) * 1000, 1)
        result.first_flush_self_reported_ms = stats["previous_flush_ms"]
        result.steady_flush_self_reported_ms = collector.counters()["stats"]["previous_flush_ms"]
    finally:
        collector.stop()
    result.first_flush_without_idle_ms, result.render_ahead_ms = flush_without_idle(pool, tmp / "busy")


def flush_without_idle(pool: list[bytes], output: Path) -> tuple[float, float]:
    """In this process, the same 1M events: the first flush of a collector that never had an idle moment
    to render ahead (a flush under a stream with no gaps), and how long rendering ahead takes (done in
    5 ms slices while nothing arrives, so the SIGHUP flush above only writes); in milliseconds."""
    import gc
    import logging

    from collector_runtime.collector import CollectorService
    from collector_runtime.data import load_action_map
    from collector_runtime.settings import ListenOptions, OutputOptions

    logging.getLogger("csm_collector").setLevel(logging.ERROR)  # the policy-size warnings
    timings = []
    for render_ahead in (False, True):
        options = ListenOptions(port=0, quiet=True, output=OutputOptions(output_dir=output / str(render_ahead)))
        service = CollectorService(options, load_action_map(), listener=None)
        for index in range(1_000_000):
            service.pipeline.receive_datagram(pool[index % len(pool)])
        gc.freeze()
        started = time.perf_counter()
        if render_ahead:
            while not service.renderer.prepare(service.aggregator, lambda: True):
                pass
        else:
            service.flush()
        timings.append(round((time.perf_counter() - started) * 1000, 1))
    return timings[0], timings[1]


def write_baseline(output: Path, target: Path) -> float:
    """The floor of a first flush: a minimal loop writing the same files (same names and sizes, each via
    a temporary file and a rename, state.json fsync'd) into an empty directory, in milliseconds."""
    files = {p.relative_to(output): p.read_bytes() for p in output.rglob("*.json")}
    (target / "policies").mkdir(parents=True)
    started = time.perf_counter()
    for relative, data in files.items():
        path = target / relative
        tmp = path.with_name(f".{path.name}.tmp")
        with tmp.open("wb") as handle:
            handle.write(data)
            if path.name == "state.json":
                os.fsync(handle.fileno())
        tmp.replace(path)
    return round((time.perf_counter() - started) * 1000, 1)


def delay_run(samples: int, tmp: Path) -> list[float]:
    """Arrival of a datagram with a new action -> the action in its policy file (flush interval 1 s)."""
    collector = start_collector(tmp / "delay", 32 << 20, flush_interval=1.0)
    delays = []
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            for index, api in enumerate(
                ["ListQueues", "GetQueueUrl", "SendMessage", "DeleteMessage", "PurgeQueue"][:samples]
            ):
                time.sleep(0.37 * (index + 1))
                policy = collector.output / "policies" / f"marker-{index}.json"
                sock.sendto(marker(f"marker-{index}", "SQS", api), ("127.0.0.1", collector.port))
                started = time.perf_counter()
                _wait(lambda p=policy, a=api: f"sqs:{a}" in (p.read_text() if p.exists() else ""), timeout=10)
                delays.append(round((time.perf_counter() - started) * 1000, 1))
    finally:
        collector.stop()
    return delays


# --- report ---------------------------------------------------------------------------------------


def best_zero_loss(results: list[RateResult]) -> int:
    return max((r.target_rate for r in results if r.zero_loss and r.target_rate), default=0)


def table(
    baseline: list[RateResult],
    collector: list[RateResult],
    scale: ScaleResult,
    delays: list[float],
    archived: list[RateResult],
) -> str:
    widths = (20, 15, 9, 16, 9, 9, 7)
    header = ("rate (datagrams/s)", "baseline recv/s", "lost", "collector recv/s", "lost", "drops", "CPU")
    lines = [" ".join(f"{h:>{w}}" for h, w in zip(header, widths, strict=True))]
    for b, c in zip(baseline, collector, strict=True):
        cells = (
            f"{b.target_rate:,}" if b.target_rate else "flat out",
            f"{round(b.received / b.seconds):,}",
            f"{b.lost:,}",
            f"{round(c.received / c.seconds):,}",
            f"{c.lost:,}",
            f"{c.kernel_drops:,}",
            f"{c.cpu_percent}%",
        )
        lines.append(" ".join(f"{cell:>{w}}" for cell, w in zip(cells, widths, strict=True)))
    c_zero = best_zero_loss(collector)
    b_flat = baseline[-1].received / baseline[-1].seconds
    c_flat = collector[-1].received / collector[-1].seconds
    # The ceiling: the most a minimal Python loop received without loss (flat out, when it lost nothing).
    ceiling = max([r.received / r.seconds for r in baseline if r.zero_loss] or [float(best_zero_loss(baseline))])
    rss = ", ".join(f"{mib} MiB after {n:,} events" for n, mib in zip(scale.events, scale.peak_rss_mib, strict=True))
    lines += [
        "",
        f"ceiling (baseline receive loop, no loss): {ceiling:,.0f}/s",
        f"collector's highest zero-loss rate tested: {c_zero:,}/s ({c_zero / ceiling:.0%} of the ceiling)",
        f"flat out: collector {c_flat:,.0f}/s, baseline {b_flat:,.0f}/s ({c_flat / ceiling:.0%} of the ceiling)",
        "with the raw-event archive on: "
        + ", ".join(
            f"{r.target_rate or 'flat out'}: {r.received / r.seconds:,.0f}/s received, {r.lost:,} lost, "
            f"CPU {r.cpu_percent}%"
            for r in archived
        ),
        f"flush, 1M events from {scale.workloads} workloads, SIGHUP -> all files written:",
        f"  first flush (all {scale.files_in_first_flush} files new): {scale.first_flush_ms} ms"
        f" (collector's own timing {scale.first_flush_self_reported_ms} ms)",
        f"  steady state (after 100k more events): {scale.steady_flush_ms} ms"
        f" (collector's own timing {scale.steady_flush_self_reported_ms} ms)",
        f"  baseline: a bare loop writing the same {scale.files_in_first_flush} files atomically: "
        f"{scale.flush_baseline_ms} ms",
        f"  rendered ahead while idle (before the SIGHUP above): {scale.render_ahead_ms} ms of work;"
        f" a first flush with no idle moment before it: {scale.first_flush_without_idle_ms} ms (in-process)",
        f"peak RSS: {rss}",
        f"arrival -> action in its policy file (flush interval 1 s): {delays} ms",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s phases and 1M/2M events: a smoke run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each rate phase (default 10)")
    parser.add_argument("--rates", default="10000,50000,100000,150000")
    parser.add_argument("--receive-buffer", type=int, default=32 << 20)
    parser.add_argument("--events", type=int, default=10_000_000, help="events for the memory run (default 10M)")
    parser.add_argument(
        "--save-reference", action="store_true", help="also replace bench/results/reference.json (the README's figures)"
    )
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.seconds
    checkpoints = [1_000_000, 2_000_000 if args.quick else args.events]
    rates = [int(r) for r in args.rates.split(",")]
    pool = datagram_pool(100_000)
    print(f"pool: {len(pool)} datagrams, mean {sum(map(len, pool)) / len(pool):.0f} bytes", flush=True)
    with tempfile.TemporaryDirectory(prefix="csm-bench-") as tmp_name:
        tmp = Path(tmp_name)
        baseline = rate_sweep("baseline", pool, rates, seconds, args.receive_buffer, tmp)
        collector = rate_sweep("collector", pool, rates, seconds, args.receive_buffer, tmp)
        archived = rate_sweep("archive", pool, [r for r in rates if r <= 100_000], seconds, args.receive_buffer, tmp)
        print("  scale run (1,000 workloads)...", flush=True)
        scale = scale_run(checkpoints, args.receive_buffer, tmp)
        delays = delay_run(5, tmp)
    report = table(baseline, collector, scale, delays, archived)
    print("\n" + report)
    save(args, baseline, collector, archived, scale, delays, report)
    return 0


def save(
    args: argparse.Namespace,
    baseline: list[RateResult],
    collector: list[RateResult],
    archived: list[RateResult],
    scale: ScaleResult,
    delays: list[float],
    report: str,
) -> None:
    commit = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    result = {
        "when": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit,
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "platform": platform.platform(),
            "rmem_max": int(Path("/proc/sys/net/core/rmem_max").read_text()),
        },
        "arguments": vars(args),
        "baseline": [r.row() for r in baseline],
        "collector": [r.row() for r in collector],
        "collector_with_archive": [r.row() for r in archived],
        "scale": asdict(scale),
        "arrival_to_file_ms": delays,
        "report": report,
    }
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "latest.json").write_text(json.dumps(result, indent=2) + "\n")
    with (RESULTS / "history.jsonl").open("a") as history:
        history.write(json.dumps(result) + "\n")
    print(f"\nresults: {RESULTS / 'latest.json'}")
    if args.save_reference:
        REFERENCE.write_text(json.dumps(result, indent=2) + "\n")
        print(f"reference updated: {REFERENCE}")


if __name__ == "__main__":
    sys.exit(main())
