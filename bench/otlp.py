"""OTLP/HTTP ingest benchmark: spans per second a real `csm-collector listen --otlp-port` process takes in with zero
loss, against a bare protobuf-decode loop over the same request bodies, in the same run, on this machine.

The requests are real: the botocore instrumentation's export of tests/fixtures/otlp (35 AWS SDK spans), its spans
repeated to 105 per request, under 40 workloads (service.name). Two sender threads, each on a keep-alive
connection, post them as fast as the collector answers, --seconds in all. Zero loss means: every span of every
request answered 200 is counted in stats.json (`otlp.spans_received`) and became a call (`calls`), and no request
was refused. The baselines run in this process: `ExportTraceServiceRequest.ParseFromString` alone (the ceiling of
any Python receiver built on the official package), and the pure decoder (`decode_export` + `SpanRecords`), in the
conditions `listen` runs in (long-lived data frozen out of the garbage collector, as `listen` does). The machine
may be shared and its load drifts within seconds, so the collector's sending and the baselines alternate in
ROUNDS short slices (the collector idle during the baselines, this process idle while it sends), and each figure
is the sum over its slices: both sides see the same load. The collector decodes in its decode worker processes
(listen's default, or --decode-workers N; 0 decodes in its own process); its CPU time and memory are those of its
whole process tree.

Results: bench/results/local/otlp-latest.json (and otlp-history.jsonl there; ignored by git); with
--save-reference also the committed bench/results/otlp-reference.json, which docs/performance.md's OTLP
figures come from.
Usage: python bench/otlp.py [--seconds 10] [--quick] [--decode-workers N] [--save-reference]
"""

from __future__ import annotations

import argparse
import datetime as dt
import gc
import http.client
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from collector_runtime.data import load_action_map  # noqa: E402
from collector_runtime.sources.otlp import SpanRecords, decode_export  # noqa: E402

RESULTS = ROOT / "bench" / "results" / "local"
FIXTURE = ROOT / "tests" / "fixtures" / "otlp" / "python-botocore-0.66b2.pb"
HEADERS = {"Content-Type": "application/x-protobuf"}
TICK = os.sysconf("SC_CLK_TCK")
WORKLOADS, REPEAT, SENDERS, ROUNDS = 40, 3, 2, 5


def bodies() -> tuple[list[bytes], int]:
    """One request body per workload, and the spans in each."""
    template = ExportTraceServiceRequest.FromString(FIXTURE.read_bytes())
    spans = [span for scope in template.resource_spans[0].scope_spans for span in scope.spans] * REPEAT
    built = []
    for index in range(WORKLOADS):
        request = ExportTraceServiceRequest()
        resource_spans = request.resource_spans.add()
        name = KeyValue(key="service.name", value=AnyValue(string_value=f"bench-workload-{index:02d}"))
        resource_spans.resource.attributes.append(name)
        resource_spans.scope_spans.add().spans.extend(spans)
        built.append(request.SerializeToString())
    return built, len(spans)


class Tally:
    """Spans, wall seconds and CPU seconds summed over a side's slices."""

    def __init__(self) -> None:
        self.spans, self.wall, self.cpu = 0, 0.0, 0.0

    def add(self, spans: int, wall: float, cpu: float) -> None:
        self.spans, self.wall, self.cpu = self.spans + spans, self.wall + wall, self.cpu + cpu

    def per_s(self) -> float:
        return self.spans / self.wall

    def per_cpu_s(self) -> float:
        return self.spans / self.cpu


def loop_slice(work: Any, spans: int, seconds: float, tally: Tally) -> None:
    count, start, cpu = 0, time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        work()
        count += 1
    tally.add(count * spans, time.perf_counter() - start, time.process_time() - cpu)


class Baselines:
    """The bare parse and the pure decoder over the same bodies, in this process."""

    def __init__(self, requests: list[bytes], spans: int) -> None:
        self.requests, self.spans = requests, spans
        self.records = SpanRecords(load_action_map())
        self.cycle = iter(range(1 << 62))
        self.bare, self.decoder = Tally(), Tally()

    def run_slice(self, seconds: float) -> None:
        parse, requests = ExportTraceServiceRequest.FromString, self.requests

        def bare() -> None:
            parse(requests[next(self.cycle) % len(requests)])

        def decoder() -> None:
            body = requests[next(self.cycle) % len(requests)]
            self.records.calls(decode_export(body, HEADERS["Content-Type"], None, max_bytes=4 << 20))

        loop_slice(decoder, self.spans, seconds * 0.8, self.decoder)
        loop_slice(bare, self.spans, seconds * 0.2, self.bare)


STDERR_LINES = [0]  # what the collector logged after start-up (a bench that provokes errors counts them)


def start_collector(out: Path, decode_workers: int | None = None) -> tuple[subprocess.Popen[str], int]:
    """A real `listen --otlp-port` process (listen's default decode workers unless given) and its OTLP port; the
    rest of its stderr is drained (a full pipe would block the collector) and counted in STDERR_LINES."""
    argv = [sys.executable, "-m", "collector_runtime", "listen", "--port", "0", "--otlp-port", "0"]
    argv += ["--output-dir", str(out), "--flush-interval", "3600", "--quiet"]
    if decode_workers is not None:
        argv += ["--otlp-decode-workers", str(decode_workers)]
    process = subprocess.Popen(argv, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    assert process.stderr is not None
    for line in process.stderr:
        found = re.search(r"OTLP/HTTP traces on http://127\.0\.0\.1:(\d+)/", line)
        if found:
            threading.Thread(target=_drain, args=(process.stderr,), daemon=True).start()
            return process, int(found.group(1))
    raise RuntimeError("the collector did not start")


def _drain(stream: Any) -> None:
    for _ in stream:
        STDERR_LINES[0] += 1


def send(connection: http.client.HTTPConnection, requests: list[bytes], deadline: float, offset: int) -> list[int]:
    """Posts until the deadline; [answered 200, answered otherwise]."""
    index, ok, other = offset, 0, 0
    while time.monotonic() < deadline:
        connection.request("POST", "/v1/traces", body=requests[index % len(requests)], headers=HEADERS)
        response = connection.getresponse()
        response.read()
        ok, other = (ok + 1, other) if response.status == 200 else (ok, other + 1)
        index += 1
    return [ok, other]


def process_tree(pid: int) -> list[int]:
    """The collector's process and its children (its decode workers, multiprocessing's resource tracker)."""
    children = [
        int(child)
        for task in Path(f"/proc/{pid}/task").iterdir()
        for child in task.joinpath("children").read_text().split()
    ]
    return [pid, *(grandchild for child in children for grandchild in process_tree(child))]


def cpu_seconds(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        total += int(fields[11]) + int(fields[12])
    return total / TICK


def rss_mib(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


class Collector:
    """A real collector process and the senders' keep-alive connections to it."""

    def __init__(self, out: Path, requests: list[bytes], spans: int, decode_workers: int | None) -> None:
        self.process, port = start_collector(out, decode_workers)
        self.pids = process_tree(self.process.pid)
        self.connections = [http.client.HTTPConnection("127.0.0.1", port, timeout=30) for _ in range(SENDERS)]
        self.requests, self.spans = requests, spans
        self.sent, self.answered = Tally(), [0, 0]
        self.offsets = [i * 7 for i in range(SENDERS)]

    def run_slice(self, seconds: float) -> None:
        results: list[list[int]] = [[] for _ in range(SENDERS)]

        def sender(i: int, deadline: float) -> None:
            results[i] = send(self.connections[i], self.requests, deadline, self.offsets[i])
            self.offsets[i] += sum(results[i])

        cpu_before, start = cpu_seconds(self.pids), time.monotonic()
        threads = [threading.Thread(target=sender, args=(i, start + seconds)) for i in range(SENDERS)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed, cpu = time.monotonic() - start, cpu_seconds(self.pids) - cpu_before
        ok = sum(r[0] for r in results)
        self.answered = [self.answered[0] + ok, self.answered[1] + sum(r[1] for r in results)]
        self.sent.add(ok * self.spans, elapsed, cpu)

    def stop(self, out: Path) -> dict[str, Any]:
        self.rss_mib = [round(rss_mib(pid), 1) for pid in self.pids]
        for connection in self.connections:
            connection.close()
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=120)
        stats: dict[str, Any] = json.loads((out / "stats.json").read_text())
        return stats


def collector_figures(collector: Collector, stats: dict[str, Any]) -> dict[str, Any]:
    answered, sent = collector.answered[0], collector.sent
    counted = stats["otlp"]["spans_received"]
    return {
        "seconds": round(sent.wall, 2),
        "requests_answered_200": answered,
        "requests_answered_other": collector.answered[1],
        "spans_sent_and_acknowledged": sent.spans,
        "spans_counted": counted,
        "calls_counted": stats["calls"],
        "requests_refused": stats["otlp"]["requests_refused"],
        "lost": sent.spans - counted,
        "spans_per_s": round(sent.per_s()),
        "collector_processes": len(collector.pids),
        "collector_rss_mib": collector.rss_mib,
        "collector_cpu_percent": round(100 * sent.cpu / sent.wall),
        "collector_spans_per_cpu_s": round(sent.per_cpu_s()),
        "workloads": len(stats["workloads"]),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--quick", action="store_true", help="3 s runs (a smoke run)")
    parser.add_argument(
        "--decode-workers",
        type=int,
        metavar="N",
        help="the collector's --otlp-decode-workers (default: listen's own default)",
    )
    parser.add_argument(
        "--save-reference",
        action="store_true",
        help="also replace bench/results/otlp-reference.json (docs/performance.md's OTLP figures)",
    )
    args = parser.parse_args()
    seconds = 3.0 if args.quick else args.seconds
    requests, spans = bodies()
    gc.freeze()  # as listen does after loading the mapping: the baseline pays no collections of long-lived data
    baselines = Baselines(requests, spans)
    with tempfile.TemporaryDirectory() as tmp:
        collector = Collector(Path(tmp), requests, spans, args.decode_workers)
        for _ in range(ROUNDS):  # alternating, so that both sides see the same (drifting) load
            baselines.run_slice(seconds / ROUNDS / 2)
            collector.run_slice(seconds / ROUNDS)
        run = collector_figures(collector, collector.stop(Path(tmp)))
    base = {
        "bare_parse_spans_per_s": baselines.bare.per_s(),
        "decoder_spans_per_s": baselines.decoder.per_s(),
        "decoder_spans_per_cpu_s": baselines.decoder.per_cpu_s(),
    }
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT)
    result = {
        "time": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "commit": commit.stdout.strip(),
        "load_average_1min": os.getloadavg()[0],
        "rounds": ROUNDS,
        "spans_per_request": spans,
        "decode_workers": "default" if args.decode_workers is None else args.decode_workers,
        **base,
        **run,
    }
    result["collector_vs_bare_parse"] = round(run["spans_per_s"] / base["bare_parse_spans_per_s"], 4)
    result["collector_vs_decoder"] = round(run["spans_per_s"] / base["decoder_spans_per_s"], 4)
    result["collector_vs_decoder_per_cpu_s"] = round(
        run["collector_spans_per_cpu_s"] / base["decoder_spans_per_cpu_s"], 4
    )
    print(f"{'bare ParseFromString loop':40} {base['bare_parse_spans_per_s']:>12,.0f} spans/s")
    print(f"{'pure decoder (decode_export + records)':40} {base['decoder_spans_per_s']:>12,.0f} spans/s")
    print(
        f"{'listen --otlp-port, 2 keep-alive senders':40} {run['spans_per_s']:>12,.0f} spans/s  "
        f"(lost {run['lost']}, refused {run['requests_refused']}, collector CPU {run['collector_cpu_percent']}% "
        f"in {run['collector_processes']} processes)"
    )
    print(
        f"collector / pure decoder: {result['collector_vs_decoder']:.0%} (same run, {ROUNDS} alternating slices; "
        f"load average {result['load_average_1min']:.2f})"
    )
    print(
        f"per CPU second (what a loaded machine's scheduler does not skew): collector "
        f"{run['collector_spans_per_cpu_s']:,.0f}, decoder {base['decoder_spans_per_cpu_s']:,.0f} spans, "
        f"{result['collector_vs_decoder_per_cpu_s']:.0%}"
    )
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "otlp-latest.json").write_text(json.dumps(result, indent=2) + "\n")
    with (RESULTS / "otlp-history.jsonl").open("a") as history:
        history.write(json.dumps(result) + "\n")
    print(f"results: {RESULTS / 'otlp-latest.json'}")
    if args.save_reference:
        (RESULTS.parent / "otlp-reference.json").write_text(json.dumps(result, indent=2) + "\n")
        print(f"reference updated: {RESULTS.parent / 'otlp-reference.json'}")
    return (
        0 if run["lost"] == 0 and run["requests_refused"] == 0 and run["calls_counted"] == run["spans_counted"] else 1
    )


if __name__ == "__main__":
    raise SystemExit(main())
