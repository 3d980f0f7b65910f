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

Results: printed, and written to bench/results/local/proxy-latest.json (ignored by git); with --save-reference
also the committed bench/results/proxy-reference.json, which docs/proxy.md's proxy figures come from.

Usage: python bench/proxy.py [--requests 600] [--threads 4] [--applies 40] [--save-reference]
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
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


def sequential(dynamodb: Any, requests: int) -> dict[str, float]:
    dynamodb.list_tables()  # warm: connection, TLS, the proxy's certificate for the host
    latencies = []
    for _ in range(requests):
        started = time.perf_counter()
        dynamodb.list_tables()
        latencies.append((time.perf_counter() - started) * 1000)
    latencies.sort()
    return {
        "median_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(latencies[int(len(latencies) * 0.95)], 2),
        "requests_per_s": round(1000 * len(latencies) / sum(latencies), 1),
    }


def concurrent(dynamodb: Any, requests: int, threads: int) -> dict[str, float]:
    dynamodb.list_tables()
    each = requests // threads

    def work() -> None:
        for _ in range(each):
            dynamodb.list_tables()

    workers = [threading.Thread(target=work) for _ in range(threads)]
    started = time.perf_counter()
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    return {"threads": threads, "requests_per_s": round(each * threads / (time.perf_counter() - started), 1)}


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


def terraform_applies(
    applies: int, *, proxy_port: int | None, moto_port: int, bundle: Path, tag: str
) -> dict[str, Any]:
    """`applies` runs, each a new client and a new bucket; every request timed (errors such as
    NoSuchTagSet count as answered: the provider gets them too)."""
    latencies: list[float] = []
    started, cpu_started = time.perf_counter(), time.process_time()
    for index in range(applies):
        s3 = s3_client(proxy_port=proxy_port, moto_port=moto_port, bundle=bundle)
        bucket = f"terraform-{tag}{index:04d}{time.time_ns() % 10**9:09d}"
        calls = [("create_bucket", {"CreateBucketConfiguration": {"LocationConstraint": "eu-west-1"}})]
        calls += [(name, {}) for name in APPLY_READS]
        for name, extra in calls:
            begun = time.perf_counter()
            with contextlib.suppress(s3.exceptions.ClientError):
                getattr(s3, name)(Bucket=bucket, **extra)
            latencies.append((time.perf_counter() - begun) * 1000)
        s3.close()
    elapsed, cpu = time.perf_counter() - started, time.process_time() - cpu_started
    return {
        "applies": applies,
        "requests": len(latencies),
        "median_ms": round(statistics.median(latencies), 2),
        "p95_ms": round(sorted(latencies)[int(len(latencies) * 0.95)], 2),
        "requests_per_s": round(len(latencies) / elapsed, 1),
        "client_cpu_ms_per_apply": round(cpu * 1000 / applies, 1),  # the client's own cost, less noisy than time
    }


def measure(requests: int, threads: int, applies: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp, moto_server(ACCOUNT) as moto_port:
        flags = ["--ca-dir", f"{tmp}/ca", "--upstream", f"http://127.0.0.1:{moto_port}", "--quiet"]
        process, proxy_port = start_proxy(base_env(), *flags, "--output-dir", f"{tmp}/out")
        try:
            # what `eval "$(csm-collector proxy-env)"` gives boto3, as a user's client would have it
            bundle = Path(proxy_env(base_env(), "--ca-dir", f"{tmp}/ca", "--port", str(proxy_port))["AWS_CA_BUNDLE"])
            result: dict[str, Any] = {"requests": requests}
            for mode, port in (("direct", None), ("proxy", proxy_port)):
                dynamodb = client(proxy_port=port, moto_port=moto_port, bundle=bundle, threads=threads)
                result[mode] = {
                    "sequential": sequential(dynamodb, requests),
                    "concurrent": concurrent(dynamodb, requests, threads),
                }
            for mode, port in (("direct", None), ("proxy", proxy_port)):
                result[mode]["terraform"] = terraform_applies(
                    applies, proxy_port=port, moto_port=moto_port, bundle=bundle, tag=mode[0]
                )
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)
        stats = json.loads((Path(tmp) / "out" / "stats.json").read_text())
    result["recorded_by_proxy"] = stats["proxy"]["requests_intercepted"]
    terraform_requests = result["proxy"]["terraform"]["requests"]
    result["sent_through_proxy"] = 2 + requests + requests // threads * threads + terraform_requests  # + 2 warm-ups
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
        "--save-reference", action="store_true", help="also replace bench/results/proxy-reference.json (README figures)"
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
