"""Requests/s through `csm-collector proxy` and the latency it adds, against direct requests, in one run.

One moto_server on 127.0.0.1 and one proxy (--upstream to it). The same boto3 call (DynamoDB ListTables) is
made N times sequentially and N times from THREADS threads, directly (plain HTTP to moto with endpoint_url)
and through the proxy (HTTPS to dynamodb.eu-west-1.amazonaws.com, AWS's real host name, verified with the
AWS_CA_BUNDLE `proxy-env` prints: CONNECT + TLS to the proxy, matched and recorded, sent on to moto; every
request recorded, none refused by the proxy's destination guard). Client, proxy and moto share this machine's
cores.

Terraform-style (--applies N): like the AWS provider's runs, each "apply" is a new process with a new S3 bucket
`terraform-<timestamp>`: a fresh boto3 client (new connections) creates the bucket and reads its settings back,
virtual-hosted (`<bucket>.s3.eu-west-1.amazonaws.com`, a host the proxy has not seen: CONNECT, TLS, its
certificate for that host) through the proxy, path-style on plain HTTP directly; the median latency of those
requests, the requests/s of whole applies and the client's CPU time per apply (what TLS and the CA bundle cost
the client; less disturbed by a busy machine than wall-clock time), each way.

Same run, interleaved: the machine is shared and its load drifts within seconds, so the two sides alternate
and both see the same load. Both DynamoDB clients are made and warmed up (connection, TLS, the proxy's
certificate) before any timing; the sequential requests go in blocks of BLOCK, direct then proxied, the order
swapped every block (ABBA); the concurrent run in ROUNDS slices per side, likewise swapped; and the applies in
pairs, apply i direct and apply i proxied, the order swapped every pair. Before each turn, untimed, the
client's garbage is collected and the proxy gets SETTLE_S to finish recording, so that neither side pays for
what the other left. Each side's figures are over its own blocks, slices or applies.

Results: printed, and written to bench/results/local/proxy-latest.json (ignored by git); with --save-reference
also the committed bench/results/proxy-reference.json, which docs/proxy.md's proxy figures come from.

Usage: python bench/proxy.py [--requests 600] [--threads 4] [--applies 40] [--save-reference]
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import boto3  # noqa: E402
from botocore.config import Config  # noqa: E402

from tests.proxy_harness import base_env, moto_server, proxy_env, start_proxy  # noqa: E402

ACCOUNT = "609629065308"
KEY_ID = "ASIAY34FZKBOKMUTVV7A"  # encodes ACCOUNT; any secret works with moto


def client(*, proxy_port: int | None, moto_port: int, bundle: Path, threads: int) -> Any:
    config = Config(
        retries={"max_attempts": 1},
        max_pool_connections=threads * 2,
        proxies={"https": f"http://bench:x@127.0.0.1:{proxy_port}"} if proxy_port else {},
    )
    where: dict[str, Any] = {"verify": str(bundle)} if proxy_port else {"endpoint_url": f"http://127.0.0.1:{moto_port}"}
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key="x", region_name="eu-west-1")
    return session.client("dynamodb", config=config, **where)


BLOCK, ROUNDS = 10, 5  # sequential requests per block; concurrent slices per side
SETTLE_S = 0.02  # the pause before a turn


def turns(count: int) -> Iterator[tuple[int, str]]:
    """`count` pairs of turns, (index, side): direct then proxy, swapped every pair (ABBA), so that a load that
    rises or falls across a pair weighs on both sides alike; each turn starts settled."""
    for index in range(count):
        for mode in ("direct", "proxy") if index % 2 == 0 else ("proxy", "direct"):
            settle()
            yield index, mode


def settle() -> None:
    """Untimed, before a turn: what the last turn left behind is not charged to the other side (the client's
    garbage, such as a closed client's cycles, collected; the proxy's recording after its last response)."""
    gc.collect()
    time.sleep(SETTLE_S)


def timed_calls(call: Any, count: int, latencies: list[float]) -> None:
    for _ in range(count):
        started = time.perf_counter()
        call()
        latencies.append((time.perf_counter() - started) * 1000)


def sequential(clients: dict[str, Any], requests: int) -> dict[str, dict[str, float]]:
    """`requests` sequential ListTables per side, in alternating blocks of BLOCK."""
    latencies: dict[str, list[float]] = {mode: [] for mode in clients}
    for index, mode in turns(-(-requests // BLOCK)):
        timed_calls(clients[mode].list_tables, min(BLOCK, requests - index * BLOCK), latencies[mode])
    return {mode: _latency_figures(values) for mode, values in latencies.items()}


def _latency_figures(latencies: list[float]) -> dict[str, float]:
    latencies = sorted(latencies)
    return {
        "median_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)], 2),
        "requests_per_s": round(1000 * len(latencies) / sum(latencies), 1),
    }


def concurrent(clients: dict[str, Any], requests: int, threads: int) -> tuple[dict[str, dict[str, float]], int]:
    """About `requests` ListTables per side from `threads` threads, in ROUNDS alternating slices; the figures,
    and the requests each side sent."""
    each = max(1, requests // threads // ROUNDS)  # per thread and slice
    elapsed = dict.fromkeys(clients, 0.0)
    for _, mode in turns(ROUNDS):
        elapsed[mode] += _threaded(clients[mode].list_tables, each, threads)
    sent = each * threads * ROUNDS
    return {mode: {"threads": threads, "requests_per_s": round(sent / elapsed[mode], 1)} for mode in clients}, sent


def _threaded(call: Any, each: int, threads: int) -> float:
    def work() -> None:
        for _ in range(each):
            call()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return time.perf_counter() - started


APPLY_READS = (  # what the provider reads back after creating an aws_s3_bucket
    "head_bucket",
    "get_bucket_location",
    "get_bucket_acl",
    "get_bucket_versioning",
    "get_bucket_encryption",
    "get_bucket_ownership_controls",
    "get_public_access_block",
    "get_bucket_tagging",
)


def s3_client(*, proxy_port: int | None, moto_port: int, bundle: Path) -> Any:
    config = Config(
        retries={"max_attempts": 1},
        s3={"addressing_style": "virtual" if proxy_port else "path"},
        proxies={"https": f"http://bench:x@127.0.0.1:{proxy_port}"} if proxy_port else {},
    )
    where: dict[str, Any] = {"verify": str(bundle)} if proxy_port else {"endpoint_url": f"http://127.0.0.1:{moto_port}"}
    session = boto3.session.Session(aws_access_key_id=KEY_ID, aws_secret_access_key="x", region_name="eu-west-1")
    return session.client("s3", config=config, **where)


class Applies:
    """One side's Terraform-style applies: every request's latency, and the wall and CPU time of the applies."""

    def __init__(self, proxy_port: int | None) -> None:
        self.proxy_port = proxy_port
        self.latencies: list[float] = []
        self.elapsed = self.cpu = 0.0
        self.count = 0

    def apply(self, *, moto_port: int, bundle: Path, bucket: str) -> None:
        """A new client and a new bucket, created and read back; every request timed (errors such as
        NoSuchTagSet count as answered: the provider gets them too)."""
        started, cpu_started = time.perf_counter(), time.process_time()
        s3 = s3_client(proxy_port=self.proxy_port, moto_port=moto_port, bundle=bundle)
        calls = [("create_bucket", {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}})]
        calls += [(name, {}) for name in APPLY_READS]
        for name, extra in calls:
            begun = time.perf_counter()
            with contextlib.suppress(s3.exceptions.ClientError):
                getattr(s3, name)(Bucket=bucket, **extra)
            self.latencies.append((time.perf_counter() - begun) * 1000)
        s3.close()
        self.elapsed += time.perf_counter() - started
        self.cpu += time.process_time() - cpu_started
        self.count += 1

    def figures(self) -> dict[str, Any]:
        latencies = sorted(self.latencies)
        return {
            "applies": self.count,
            "requests": len(latencies),
            "median_ms": round(statistics.median(latencies), 2),
            "p95_ms": round(latencies[int(len(latencies) * 0.95)], 2),
            "requests_per_s": round(len(latencies) / self.elapsed, 1),
            "client_cpu_ms_per_apply": round(self.cpu * 1000 / self.count, 1),  # the client's own cost, less noisy
        }


def terraform_applies(applies: int, *, proxy_port: int, moto_port: int, bundle: Path) -> dict[str, dict[str, Any]]:
    """`applies` applies per side, in alternating pairs (apply i direct and apply i proxied)."""
    sides = {"direct": Applies(None), "proxy": Applies(proxy_port)}
    for index, mode in turns(applies):
        bucket = f"terraform-{mode[0]}{index:04d}{time.time_ns() % 10**9:09d}"
        sides[mode].apply(moto_port=moto_port, bundle=bundle, bucket=bucket)
    return {mode: side.figures() for mode, side in sides.items()}


def measure(requests: int, threads: int, applies: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, moto_server(ACCOUNT) as moto_port:
        flags = ["--ca-dir", f"{tmp}/ca", "--upstream", f"http://127.0.0.1:{moto_port}", "--quiet"]
        process, proxy_port = start_proxy(base_env(), *flags, "--output-dir", f"{tmp}/out")
        try:
            # what `eval "$(csm-collector proxy-env)"` gives boto3, as a user's client would have it
            bundle = Path(proxy_env(base_env(), "--ca-dir", f"{tmp}/ca", "--port", str(proxy_port))["AWS_CA_BUNDLE"])
            ports = {"direct": None, "proxy": proxy_port}
            clients = {
                mode: client(proxy_port=port, moto_port=moto_port, bundle=bundle, threads=threads)
                for mode, port in ports.items()
            }
            for dynamodb in clients.values():
                dynamodb.list_tables()  # warm: connection, TLS, the proxy's certificate for the host
            result: dict[str, Any] = {"requests": requests}
            one_by_one = sequential(clients, requests)
            in_threads, sent_concurrently = concurrent(clients, requests, threads)
            applied = terraform_applies(applies, proxy_port=proxy_port, moto_port=moto_port, bundle=bundle)
            for mode in clients:
                result[mode] = {
                    "sequential": one_by_one[mode],
                    "concurrent": in_threads[mode],
                    "terraform": applied[mode],
                }
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)
        stats = json.loads((Path(tmp) / "out" / "stats.json").read_text())
    result["recorded_by_proxy"] = stats["proxy"]["requests_intercepted"]
    terraform_requests = result["proxy"]["terraform"]["requests"]
    result["sent_through_proxy"] = 1 + requests + sent_concurrently + terraform_requests  # + the warm-up
    result["refused_by_proxy"] = stats["proxy"].get("destinations_refused", 0)  # AWS hosts: never
    result["added_median_ms"] = round(
        result["proxy"]["sequential"]["median_ms"] - result["direct"]["sequential"]["median_ms"], 2
    )
    direct, proxied = result["direct"]["terraform"], result["proxy"]["terraform"]
    result["terraform_added_median_ms"] = round(proxied["median_ms"] - direct["median_ms"], 2)
    result["terraform_requests_per_s_vs_direct"] = round(proxied["requests_per_s"] / direct["requests_per_s"], 3)
    result["terraform_client_cpu_vs_direct"] = round(
        proxied["client_cpu_ms_per_apply"] / direct["client_cpu_ms_per_apply"], 3
    )
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=600)
    parser.add_argument("--threads", type=int, default=4)
    parser.add_argument("--applies", type=int, default=40, help="Terraform-style applies (a new bucket host each)")
    parser.add_argument(
        "--save-reference",
        action="store_true",
        help="also replace bench/results/proxy-reference.json (docs/proxy.md's figures)",
    )
    args = parser.parse_args()
    result = measure(args.requests, args.threads, args.applies)
    result["measured_at"] = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    result["commit"] = subprocess.run(
        ["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=ROOT
    ).stdout.strip()
    target = ROOT / "bench" / "results" / "local" / "proxy-latest.json"
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(json.dumps(result, indent=2) + "\n")
    print(f"{'':10} {'median':>8} {'p95':>8} {'sequential':>12} {'concurrent':>12}")
    for mode in ("direct", "proxy"):
        seq, con = result[mode]["sequential"], result[mode]["concurrent"]
        print(
            f"{mode:10} {seq['median_ms']:>6} ms {seq['p95_ms']:>5} ms "
            f"{seq['requests_per_s']:>8} r/s {con['requests_per_s']:>8} r/s"
        )
    print(f"added latency (median): {result['added_median_ms']} ms")
    direct, proxied = result["direct"]["terraform"], result["proxy"]["terraform"]
    print(
        f"Terraform-style, {args.applies} applies (a new bucket host each): median {direct['median_ms']} ms direct, "
        f"{proxied['median_ms']} ms proxied (+{result['terraform_added_median_ms']} ms); "
        f"{direct['requests_per_s']} vs {proxied['requests_per_s']} requests/s "
        f"({result['terraform_requests_per_s_vs_direct']}x direct); the client's CPU per apply "
        f"{direct['client_cpu_ms_per_apply']} ms direct, {proxied['client_cpu_ms_per_apply']} ms proxied "
        f"({result['terraform_client_cpu_vs_direct']}x)"
    )
    print(
        f"recorded by the proxy: {result['recorded_by_proxy']} of {result['sent_through_proxy']} requests; "
        f"refused: {result['refused_by_proxy']}"
    )
    print(f"written to {target.relative_to(ROOT)}")
    if args.save_reference:
        reference = ROOT / "bench" / "results" / "proxy-reference.json"
        reference.write_text(json.dumps(result, indent=2) + "\n")
        print(f"reference updated: {reference.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
