"""Start-up and per-request cost of the proxy request matcher (collector_runtime.sources.proxy).

Measures, in this fresh process: importing the package, building the service models index (metadata of every
botocore service), the first request of each service (loads its model), and then the steady per-request
cost over the requests recorded from real SDKs (tests/fixtures/proxy/sdk-requests.jsonl).

Usage: python bench/proxy_matcher.py [--rounds 200]
"""

from __future__ import annotations

import argparse
import base64
import json
import statistics
import time
from pathlib import Path

RECORDED = Path(__file__).resolve().parents[1] / "tests" / "fixtures" / "proxy" / "sdk-requests.jsonl"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=200)
    args = parser.parse_args()
    started = time.perf_counter()
    from collector_runtime.sources.proxy import ServiceModels, http_request, match_request

    imported = time.perf_counter()
    service_models = ServiceModels()
    service_models.summaries()
    indexed = time.perf_counter()
    rows = [json.loads(line) for line in RECORDED.open()]
    requests = [
        http_request(
            r["method"], r["host"], r["path"], r["query"], headers=r["headers"], body=base64.b64decode(r["body_b64"])
        )
        for r in rows
    ]
    first: dict[str, float] = {}
    for request in requests:
        t0 = time.perf_counter()
        result = match_request(request, service_models)
        name = getattr(result, "service_name", "?")
        first.setdefault(name, (time.perf_counter() - t0) * 1000)
    per_request = []
    for _ in range(args.rounds):
        t0 = time.perf_counter()
        for request in requests:
            match_request(request, service_models)
        per_request.append((time.perf_counter() - t0) / len(requests) * 1e6)
    print(
        json.dumps(
            {
                "import_ms": round((imported - started) * 1000, 1),
                "catalog_index_ms": round((indexed - imported) * 1000, 1),
                "first_request_ms_by_service": {k: round(v, 1) for k, v in sorted(first.items())},
                "requests": len(requests),
                "per_request_us_median": round(statistics.median(per_request), 1),
                "requests_per_s_one_core": round(1e6 / statistics.median(per_request)),
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
