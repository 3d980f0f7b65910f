"""Fleet-scale benchmark of the collector on this machine, over loopback UDP.

In one run it measures, for the real `csm-collector listen` process and for a baseline receiver (a
minimal Python loop that only receives datagrams: the ceiling for a Python collector):
  - loss (datagrams received vs sent, and the kernel's drop counter) at fixed rates and flat out, and how much of
    it came in a phase's first START_UP_SECONDS (a fresh receiver's start-up; the counter read every 0.1 s);
  - events processed per second, CPU used;
  - flush time (SIGHUP to all files written) with 1M events from 1,000 workloads;
  - peak RSS after 1M and 10M events;
  - the delay from a datagram's arrival to its action appearing in the policy files.
It prints one table and writes its figures to bench/results/local/latest.json (and appends them to
history.jsonl there; that folder is ignored by git, so a run leaves the work tree clean). With
--save-reference it also replaces the committed bench/results/reference.json, which docs/performance.md's
figures come from: do that only in a change that means to update them.

The sender (bench/sender.py) sends many datagrams per system call (sendmmsg) so that it can offer more than
the receivers take; each rate row says what it actually sent (a row where it fell short measures the sender).

Usage: python bench/run.py [--quick] [--seconds 10] [--rates 10000,50000,100000,150000,200000] [--sweep-only]
       [--sender-cpu N]
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from receivers import ROOT, DropWatch, Receiver, pin, send, start_baseline, start_collector
from scale import ScaleResult, delay_run, ratio, scale_run
from workload import datagram_pool

RESULTS = ROOT / "bench" / "results" / "local"  # ignored by git
START_UP_SECONDS = 2.0  # a fresh collector learns the stream's identities and renders its policies in these
REFERENCE = ROOT / "bench" / "results" / "reference.json"  # committed: docs/performance.md's figures

# --- scenarios ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Cpus:
    """Where the sender and the receiver run (None: wherever the scheduler puts them)."""

    sender: set[int] | None = None
    receiver: set[int] | None = None

    @classmethod
    def split(cls, sender_cpu: int | None) -> Cpus:
        if sender_cpu is None:
            return cls()
        others = os.sched_getaffinity(0) - {sender_cpu}
        if sender_cpu not in os.sched_getaffinity(0) or not others:
            raise SystemExit(f"--sender-cpu {sender_cpu}: not one of this process's CPUs, or the only one")
        return cls({sender_cpu}, others)


@dataclass
class RateResult:
    receiver: str
    target_rate: int
    sent: int
    received: int
    kernel_drops: int
    seconds: float  # the sender's, first datagram to the end of the last batch's period
    cpu_percent: float
    received_per_cpu_second: int  # what the sender's rate does not limit (CPU before the closing SIGHUP)
    sender_cpu_percent: float
    start_up_drops: int  # kernel drops within the phase's first START_UP_SECONDS (a fresh receiver's start)

    @property
    def sent_per_second(self) -> int:
        return round(self.sent / self.seconds)

    @property
    def sender_fell_short(self) -> bool:
        """The sender offered less than the rate asked (by over 1%): the row measures the sender."""
        return bool(self.target_rate) and self.sent_per_second < 0.99 * self.target_rate

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
            "sent_per_second": self.sent_per_second,
            "sender_fell_short": self.sender_fell_short,
        }


def run_rate(receiver: Receiver, pool: list[bytes], rate: int, seconds: float, cpus: Cpus) -> RateResult:
    pin(receiver.process.pid, cpus.receiver)
    before, cpu_before, wall_before = receiver.counters(), receiver.cpu_seconds(), time.perf_counter()
    with DropWatch(receiver.port) as watch:
        sent = send(receiver.port, pool, rate, seconds, cpus=cpus.sender)
    time.sleep(0.5)  # let the receiver empty its queue
    cpu_received = receiver.cpu_seconds() - cpu_before  # before the SIGHUP: without the collector's flush
    after, cpu_after, wall_after = receiver.counters(), receiver.cpu_seconds(), time.perf_counter()
    drops = (after["kernel_drops"] or 0) - (before["kernel_drops"] or 0)
    cpu = round(100 * (cpu_after - cpu_before) / (wall_after - wall_before), 1)
    received = after["received"] - before["received"]
    per_cpu_second = round(received / cpu_received) if cpu_received > 0 else 0
    sender_cpu = round(100 * sent.cpu_seconds / sent.seconds, 1)
    start_up = max(watch.dropped_within(START_UP_SECONDS) - (before["kernel_drops"] or 0), 0)
    return RateResult(
        receiver.name, rate, sent.datagrams, received, drops, sent.seconds, cpu, per_cpu_second, sender_cpu, start_up
    )


def rate_sweep(
    kind: str, pool: list[bytes], rates: list[int], seconds: float, buffer: int, tmp: Path, cpus: Cpus
) -> list[RateResult]:
    return interleaved_sweep((kind,), pool, rates, seconds, buffer, tmp, cpus)[kind]


def interleaved_sweep(
    kinds: tuple[str, ...], pool: list[bytes], rates: list[int], seconds: float, buffer: int, tmp: Path, cpus: Cpus
) -> dict[str, list[RateResult]]:
    """Every rate (then flat out) offered to each kind of receiver in turn, the order swapped from one rate to the
    next: the shared machine's load drifts over the minutes a sweep takes, and a baseline swept before the
    collector would put that drift into their ratio."""
    results: dict[str, list[RateResult]] = {kind: [] for kind in kinds}
    for index, rate in enumerate([*rates, 0]):
        for kind in kinds if index % 2 == 0 else kinds[::-1]:
            results[kind].append(run_one(kind, pool, rate, seconds, buffer, tmp, cpus))
    return results


def run_one(kind: str, pool: list[bytes], rate: int, seconds: float, buffer: int, tmp: Path, cpus: Cpus) -> RateResult:
    if kind == "baseline":
        receiver = start_baseline(tmp / f"base-{rate}", buffer)
    else:  # "collector" or "archive" (the collector with the raw-event archive on)
        extra = ("--archive",) if kind == "archive" else ()
        receiver = start_collector(tmp / f"{kind}-{rate}", buffer, extra=extra)
    try:
        result = run_rate(receiver, pool, rate, seconds, cpus)
    finally:
        receiver.stop()
    print(f"  {kind:9} {rate or 'flat out':>9}: {result.row()}", flush=True)
    return result


def best_zero_loss(results: list[RateResult]) -> int:
    return max((r.target_rate for r in results if r.zero_loss and r.target_rate), default=0)


def sweep_table(baseline: list[RateResult], collector: list[RateResult]) -> list[str]:
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
    lines += [
        f"  sender fell short: {r.target_rate:,}/s offered to the {r.receiver}, {r.sent_per_second:,}/s sent"
        f" on {r.sender_cpu_percent}% of a CPU (this row measures the sender, not the receiver)"
        for r in [*baseline, *collector]
        if r.sender_fell_short
    ]
    lines += [
        f"  {r.receiver} at {r.target_rate:,}/s: {r.kernel_drops:,} dropped, {r.start_up_drops:,}"
        f" ({r.start_up_drops / r.kernel_drops:.0%}) of them in the first {START_UP_SECONDS:g} s (the start-up)"
        for r in [*baseline, *collector]
        if r.kernel_drops and r.target_rate
    ]
    b_flat, c_flat = baseline[-1], collector[-1]
    lines.append(
        f"sender flat out: {b_flat.sent_per_second:,}/s to the baseline ({b_flat.sender_cpu_percent}% of a CPU),"
        f" {c_flat.sent_per_second:,}/s to the collector ({c_flat.sender_cpu_percent}%)"
    )
    b_cpu, c_cpu = b_flat.received_per_cpu_second, c_flat.received_per_cpu_second
    lines.append(
        f"flat out, received per CPU second: collector {c_cpu:,}, baseline {b_cpu:,}"
        f" ({c_cpu / b_cpu if b_cpu else 0:.0%})"
    )
    return lines


def table(
    baseline: list[RateResult],
    collector: list[RateResult],
    scale: ScaleResult,
    delays: list[float],
    archived: list[RateResult],
) -> str:
    lines = sweep_table(baseline, collector)
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
        f"flush, 1M events from {scale.workloads} workloads, SIGHUP -> all files written"
        " (collector's own timings: how long the flush held the loop; its start -> all files on disk):",
        f"  first flush (all {scale.files_in_first_flush} files new): {scale.first_flush_ms} ms"
        f" (loop held {scale.first_flush_self_reported_ms} ms,"
        f" on disk after {scale.first_flush_write_self_reported_ms} ms)",
        f"  steady state (after 100k more events): {scale.steady_flush_ms} ms"
        f" (loop held {scale.steady_flush_self_reported_ms} ms,"
        f" on disk after {scale.steady_flush_write_self_reported_ms} ms)",
        f"  baseline: a bare loop writing the same {scale.files_in_first_flush} files atomically: "
        f"{scale.flush_baseline_ms} ms",
        f"  first flush under an unbroken stream ({scale.stream_events_at_flush} events received; the sender's"
        f" longest pause {scale.stream_longest_pause_ms} ms, a quiet moment is 20 ms):",
        f"    loop held {scale.first_flush_under_stream_self_reported_ms} ms"
        f" ({ratio(scale.first_flush_under_stream_self_reported_ms, scale.stream_flush_baseline_ms)} the bare write"
        f" of its files, {scale.stream_flush_baseline_ms} ms, same run)",
        f"    all files on disk {scale.first_flush_under_stream_ms} ms after the SIGHUP"
        f" ({ratio(scale.first_flush_under_stream_ms, scale.stream_flush_baseline_ms)} the bare write;"
        f" collector's own timing from the flush's start {scale.first_flush_under_stream_write_self_reported_ms} ms)",
        f"  rendered ahead while idle (before the first SIGHUP): {scale.render_ahead_ms} ms of work;"
        f" with nothing rendered ahead: {scale.first_flush_nothing_ahead_ms} ms (in-process)",
        f"peak RSS: {rss}",
        f"arrival -> action in its policy file (flush interval 1 s): {delays} ms",
    ]
    return "\n".join(lines)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="2 s phases and 1M/2M events: a smoke run")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each rate phase (default 10)")
    parser.add_argument(
        "--rates", default="10000,50000,100000,150000,200000", help="offered rates, datagrams/s (then flat out)"
    )
    parser.add_argument(
        "--receive-buffer", type=int, default=32 << 20, help="each receiver's SO_RCVBUF, bytes (default 32 MiB)"
    )
    parser.add_argument(
        "--sender-cpu",
        type=int,
        help="run the sender on this CPU and the receivers on the others (default: wherever the scheduler puts them)",
    )
    parser.add_argument(
        "--sweep-only",
        action="store_true",
        help="only the baseline and collector rate sweeps (the loss table; nothing saved)",
    )
    parser.add_argument("--events", type=int, default=10_000_000, help="events for the memory run (default 10M)")
    parser.add_argument(
        "--save-reference",
        action="store_true",
        help="also replace bench/results/reference.json (docs/performance.md's figures)",
    )
    args = parser.parse_args()
    seconds = 2.0 if args.quick else args.seconds
    checkpoints = [1_000_000, 2_000_000 if args.quick else args.events]
    rates = [int(r) for r in args.rates.split(",")]
    cpus = Cpus.split(args.sender_cpu)
    pool = datagram_pool(100_000)
    print(f"pool: {len(pool)} datagrams, mean {sum(map(len, pool)) / len(pool):.0f} bytes", flush=True)
    with tempfile.TemporaryDirectory(prefix="csm-bench-") as tmp_name:
        tmp = Path(tmp_name)
        swept = interleaved_sweep(("baseline", "collector"), pool, rates, seconds, args.receive_buffer, tmp, cpus)
        baseline, collector = swept["baseline"], swept["collector"]
        if args.sweep_only:
            print("\n" + "\n".join(sweep_table(baseline, collector)))
            return 0
        small_rates = [r for r in rates if r <= 100_000]
        archived = rate_sweep("archive", pool, small_rates, seconds, args.receive_buffer, tmp, cpus)
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
