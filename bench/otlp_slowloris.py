"""OTLP receiver under slowloris: real OTLP requests a `csm-collector listen --otlp-port` process answers per second
while N slow connections are held, against the same with none, in one run, on this machine.

The real requests: the botocore instrumentation's export of tests/fixtures/otlp (35 AWS SDK spans), POSTed by one
keep-alive sender from 127.0.0.1 as fast as the collector answers (a new connection when one is closed). The slow
connections: each sends a request line, then a header line every --every seconds, and is opened again when the
collector closes it (as a slowloris does), spread over --addresses loopback source addresses (127.0.0.2...) so
that they exceed both the per-address and the total connection limits. The baseline, with none, is measured
before and after (their mean), so that the ratio does not follow the machine's other load. No file is written
outside a temporary directory.

Usage: python bench/otlp_slowloris.py [--seconds 2] [--slow 300] [--addresses 5] [--every 1]
"""

from __future__ import annotations

import argparse
import http.client
import json
import signal
import socket
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from otlp import HEADERS, STDERR_LINES, start_collector  # bench/ is the script's directory: its siblings import

ROOT = Path(__file__).resolve().parent.parent
FIXTURE = ROOT / "tests" / "fixtures" / "otlp" / "python-botocore-0.66b2.pb"
REQUEST_START = b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n"


def serve_rate(port: int, body: bytes, seconds: float) -> dict[str, float]:
    """Real requests answered 200 per second by one keep-alive sender; failures are requests not answered."""
    answered, failed, start = 0, 0, time.monotonic()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    while time.monotonic() - start < seconds:
        try:
            connection.request("POST", "/v1/traces", body=body, headers=HEADERS)
            response = connection.getresponse()
            response.read()
            answered, failed = (answered + 1, failed) if response.status == 200 else (answered, failed + 1)
        except (OSError, http.client.HTTPException):
            failed += 1
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=5)
    connection.close()
    elapsed = time.monotonic() - start
    return {"requests_per_s": answered / elapsed, "answered": answered, "failed": failed}


class SlowClients:
    """`count` slowloris connections dribbling header lines, reopened when closed, until stop()."""

    def __init__(self, port: int, count: int, addresses: int, every: float) -> None:
        self.port, self.every = port, every
        self.sources = [f"127.0.0.{2 + i % addresses}" for i in range(count)]
        self.held: list[socket.socket | None] = [None] * count
        self.reopened = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._dribble, daemon=True)

    def _open(self, index: int) -> None:
        try:
            held = socket.create_connection(
                ("127.0.0.1", self.port), timeout=1, source_address=(self.sources[index], 0)
            )
            held.sendall(REQUEST_START)
            self.held[index] = held
        except OSError:
            self.held[index] = None

    def _dribble(self) -> None:
        for index in range(len(self.held)):
            self._open(index)
        while not self._stop.wait(self.every):
            for index, held in enumerate(self.held):
                try:
                    assert held is not None
                    held.sendall(b"X-Slow: a\r\n")
                except (OSError, AssertionError):
                    if held is not None:
                        held.close()
                    self._open(index)
                    self.reopened += 1

    def start(self) -> None:
        self._thread.start()
        time.sleep(max(1.5, self.every * 1.5))  # all opened, dribbling

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(30)
        for held in self.held:
            if held is not None:
                held.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=2.0, help="each measurement (default: %(default)s)")
    parser.add_argument("--slow", type=int, default=300, help="slow connections held (default: %(default)s)")
    parser.add_argument("--addresses", type=int, default=5, help="their source addresses (default: %(default)s)")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between their header lines")
    args = parser.parse_args()
    body = FIXTURE.read_bytes()
    with tempfile.TemporaryDirectory() as tmp:
        process, port = start_collector(Path(tmp))
        try:
            before = serve_rate(port, body, args.seconds)
            slow = SlowClients(port, args.slow, args.addresses, args.every)
            slow.start()
            held = serve_rate(port, body, args.seconds)
            slow.stop()
            after = serve_rate(port, body, args.seconds)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)
        stats: dict[str, Any] = json.loads((Path(tmp) / "stats.json").read_text())
    quiet = (before["requests_per_s"] + after["requests_per_s"]) / 2  # the baseline: before and after, same run
    ratio = held["requests_per_s"] / quiet if quiet else 0.0
    print(
        f"{'no slow connections (before, after)':44} {quiet:>8,.0f} requests/s  ({before['requests_per_s']:,.0f}, "
        f"{after['requests_per_s']:,.0f}; failed {before['failed'] + after['failed']})"
    )
    print(
        f"{f'{args.slow} slow connections from {args.addresses} addresses':44} {held['requests_per_s']:>8,.0f} "
        f"requests/s  (failed {held['failed']}; slow ones reopened {slow.reopened} times)"
    )
    print(f"{'ratio (held / none)':44} {ratio:>8.3f}")
    print(f"collector's refused_reasons: {stats.get('otlp', {}).get('refused_reasons')}")
    print(f"collector's stderr after start-up: {STDERR_LINES[0]} lines")
    return 0 if held["answered"] and ratio > 0 else 1


if __name__ == "__main__":
    raise SystemExit(main())
