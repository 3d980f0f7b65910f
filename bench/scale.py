"""The scale runs: peak memory over millions of events from 1,000 workloads, flush times (first, steady,
without an idle moment, against a bare-write baseline), and the delay from arrival to policy file."""

from __future__ import annotations

import os
import signal
import socket
import time
from dataclasses import dataclass, field
from pathlib import Path

from receivers import send, start_collector, wait
from workload import datagram_pool, marker


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
        wait(stats_file.exists)
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
    from collector_runtime.sources.csm.source import CsmSource

    logging.getLogger("csm_collector").setLevel(logging.ERROR)  # the policy-size warnings
    timings = []
    for render_ahead in (False, True):
        options = ListenOptions(port=0, quiet=True, output=OutputOptions(output_dir=output / str(render_ahead)))
        csm = CsmSource()
        service = CollectorService(options, load_action_map(), sources=[csm])
        for index in range(1_000_000):
            csm.receive(pool[index % len(pool)])
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
                wait(lambda p=policy, a=api: f"sqs:{a}" in (p.read_text() if p.exists() else ""), timeout=10)
                delays.append(round((time.perf_counter() - started) * 1000, 1))
    finally:
        collector.stop()
    return delays


# --- report ---------------------------------------------------------------------------------------
