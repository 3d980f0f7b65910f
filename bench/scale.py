"""The scale runs: peak memory over millions of events from 1,000 workloads, flush times (first, steady,
under an unbroken stream, with nothing rendered ahead, against a bare-write baseline), and the delay from
arrival to policy file. `python bench/scale.py` runs the flush figures alone."""

from __future__ import annotations

import multiprocessing as mp
import os
import signal
import socket
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from receivers import read_json, send, start_collector, wait
from workload import datagram_pool, marker


@dataclass
class ScaleResult:
    events: list[int] = field(default_factory=list)
    peak_rss_mib: list[float] = field(default_factory=list)
    first_flush_ms: float | None = None
    first_flush_self_reported_ms: float | None = None  # the loop's hold (previous_flush_ms)
    first_flush_write_self_reported_ms: float | None = None  # the flush's start -> on disk (previous_flush_write_ms)
    files_in_first_flush: int | None = None
    steady_flush_ms: float | None = None
    steady_flush_self_reported_ms: float | None = None
    steady_flush_write_self_reported_ms: float | None = None
    flush_baseline_ms: float | None = None
    first_flush_under_stream_ms: float | None = None  # through the real loop, SIGHUP -> stats.json (all on disk)
    first_flush_under_stream_self_reported_ms: float | None = None  # the loop's hold: render and hand-over
    first_flush_under_stream_write_self_reported_ms: float | None = None  # the flush's start -> all on disk
    stream_flush_baseline_ms: float | None = None  # the bare write of the stream run's files, same run
    stream_events_at_flush: int | None = None  # datagrams the collector had received when it wrote
    stream_longest_pause_ms: float | None = None  # the sender's, before the SIGHUP (quiet moment: 20 ms)
    first_flush_nothing_ahead_ms: float | None = None  # in-process, nothing rendered ahead (the worst case)
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
            sent_total += send(collector.port, pool, 100_000, remaining / 100_000 + 30, limit=remaining).datagrams
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
        result.first_flush_write_self_reported_ms = stats.get("previous_flush_write_ms")
        time.sleep(SETTLE)
        stats = collector.counters()["stats"]
        result.steady_flush_self_reported_ms = stats["previous_flush_ms"]
        result.steady_flush_write_self_reported_ms = stats.get("previous_flush_write_ms")
    finally:
        collector.stop()
    flush_under_stream(result, pool, tmp / "stream")
    result.first_flush_nothing_ahead_ms, result.render_ahead_ms = flush_nothing_ahead(pool, tmp / "busy")


# The writer thread records a write's time just after renaming stats.json: a SIGHUP sent the moment a new
# stats.json appears could find it not recorded yet (previous_flush_write_ms null). Wait this long first.
SETTLE = 0.2


def _stream(port: int, pool: list[bytes], rate: int, sent: Any, pause: Any, stop: Any) -> None:
    """Sender process: `rate` datagrams/s, paced every half millisecond, until `stop` is set; publishes the
    count sent and the longest pause between two batches (a quiet moment for the collector is 20 ms)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    address, size, index, count = ("127.0.0.1", port), len(pool), 0, 0
    start = last = time.perf_counter()
    while not stop.is_set():
        now = time.perf_counter()
        pause.value = max(pause.value, now - last)
        while count < int((now - start) * rate):
            sock.sendto(pool[index], address)
            index = index + 1 if index + 1 < size else 0
            count += 1
        last = time.perf_counter()
        sent.value = count
        time.sleep(0.0005)
    sock.close()


def flush_under_stream(result: ScaleResult, pool: list[bytes], output: Path, rate: int = 100_000) -> None:
    """Through the real loop: SIGHUP -> every file written, for a collector that has written nothing yet, once
    1M datagrams from 1,000 workloads were sent in an unbroken stream that goes on during the flush (no quiet
    moment: what it renders ahead, it renders in the stream's duty cycle, core.schedule). Also the collector's
    own timings: how long the flush held the loop (it hands the files to its writer thread) and its start ->
    all files on disk; and the bare write of the same files (after the stream, as the other baseline)."""
    collector = start_collector(output, 32 << 20)
    sent, pause, stop = mp.Value("q", 0, lock=False), mp.Value("d", 0.0, lock=False), mp.Event()
    sender = mp.Process(target=_stream, args=(collector.port, pool, rate, sent, pause, stop))
    try:
        sender.start()
        wait(lambda: sent.value >= 1_000_000, timeout=120)
        result.stream_longest_pause_ms = round(pause.value * 1000, 1)
        started = time.perf_counter()
        collector.process.send_signal(signal.SIGHUP)
        wait((output / "stats.json").exists)
        result.first_flush_under_stream_ms = round((time.perf_counter() - started) * 1000, 1)
        stop.set()
        sender.join()
        result.stream_events_at_flush = read_json(output / "stats.json")["csm"]["datagrams_received"]
        time.sleep(SETTLE)
        stats = collector.counters()["stats"]
        result.first_flush_under_stream_self_reported_ms = stats["previous_flush_ms"]
        result.first_flush_under_stream_write_self_reported_ms = stats.get("previous_flush_write_ms")
        result.stream_flush_baseline_ms = write_baseline(output, output.parent / "stream-baseline")
    finally:
        stop.set()
        collector.stop()


def flush_nothing_ahead(pool: list[bytes], output: Path) -> tuple[float, float]:
    """In this process, the same 1M events: the first flush of a collector that rendered nothing ahead
    (every policy changed just before the flush: the worst case), and how long rendering ahead takes (done
    in 5 ms slices while nothing arrives, so the SIGHUP flush above only writes); in milliseconds."""
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


def ratio(value: float | None, baseline: float | None) -> str:
    """`value` as a multiple of `baseline` ("1.16x"), or "?x" when either is missing."""
    return f"{value / baseline:.2f}x" if value is not None and baseline else "?x"


def main() -> None:
    """The flush figures alone (a fresh collector each): first, steady, under a stream, nothing ahead."""
    import tempfile

    result = ScaleResult()
    with tempfile.TemporaryDirectory(prefix="csm-bench-") as tmp:
        flush_times(result, Path(tmp))
    for name, value in asdict(result).items():
        if value not in (None, []):
            print(f"{name}: {value}")
    baseline = result.stream_flush_baseline_ms
    print(
        "first flush under an unbroken stream, against the bare write of its files:"
        f" loop held {ratio(result.first_flush_under_stream_self_reported_ms, baseline)},"
        f" all files on disk {ratio(result.first_flush_under_stream_ms, baseline)} (SIGHUP -> stats.json)"
    )


if __name__ == "__main__":
    main()
