"""Health and metrics over HTTP on a local port: Prometheus text at /metrics, JSON at /health.

/health answers 503 (status "stalled") when the service loop has not turned for longer than its
threshold (see loop_watch.py), so a supervisor (systemd, ECS health checks) restarts the process; 200
otherwise ("ok", or "degraded" while publishing or writing fails: the loop still collects).

Off by default (`--metrics-port`); binds 127.0.0.1 unless told otherwise. Served from a daemon
thread that only reads counters, so it never slows intake.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from ..collector_stats import source_sections

log = logging.getLogger("csm_collector")
StatsSource = Callable[[], dict[str, Any]]

_GAUGES = {
    "datagrams_received": ("csm_collector_datagrams_received_total", "counter", "Datagrams read from the socket"),
    "events_parsed": ("csm_collector_events_parsed_total", "counter", "Valid CSM events"),
    "events_rejected": ("csm_collector_events_rejected_total", "counter", "Invalid or dropped events"),
    "api_call_events": ("csm_collector_api_calls_total", "counter", "ApiCall events"),
    "calls": ("csm_collector_calls_total", "counter", "Observed calls, from every source"),
    "internal_errors": ("csm_collector_internal_errors_total", "counter", "Events an internal error dropped"),
    "calls_unmapped": ("csm_collector_calls_unmapped_total", "counter", "Calls no IAM action could be found for"),
    "calls_denied": ("csm_collector_calls_denied_total", "counter", "Calls that were denied"),
    "kernel_receive_drops": (
        "csm_collector_kernel_receive_drops_total",
        "counter",
        "Datagrams the kernel dropped: the receive buffer was full (loss)",
    ),
    "receive_buffer_granted": ("csm_collector_receive_buffer_bytes", "gauge", "Socket receive buffer granted"),
    "output_files_pending": ("csm_collector_output_files_pending", "gauge", "Files not yet written (disk problems)"),
    "previous_flush_ms": (
        "csm_collector_flush_milliseconds",
        "gauge",
        "How long the previous flush held the service loop (render, hand-over to the writer thread)",
    ),
    "previous_flush_write_ms": (
        "csm_collector_flush_write_milliseconds",
        "gauge",
        "From the previous flush's start until its files were on disk",
    ),
    "uptime_seconds": ("csm_collector_uptime_seconds", "gauge", "Seconds since start"),
    "loop_seconds_since_turn": (
        "csm_collector_loop_seconds_since_turn",
        "gauge",
        "Seconds since the service loop last turned (/health is 503 past its threshold)",
    ),
}


def prometheus_text(stats: dict[str, Any]) -> str:
    lines = _record_lines(stats)  # before CSM's figures are lifted: its section has the same names
    stats = {**stats, **stats.get("csm", {})}  # the CSM source's figures keep their metric names
    for key, (name, kind, help_text) in _GAUGES.items():
        value = stats.get(key)
        if _is_number(value):
            lines += [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}", f"{name} {value}"]
    lines += [
        "# HELP csm_collector_workloads Workloads with a policy",
        "# TYPE csm_collector_workloads gauge",
        f"csm_collector_workloads {len(stats.get('workloads', {}))}",
    ]
    reasons = stats.get("rejected_reasons", {})
    if reasons:
        lines += [
            "# HELP csm_collector_rejected_total Rejected events by reason",
            "# TYPE csm_collector_rejected_total counter",
        ]
        lines += [
            f"csm_collector_rejected_total{{reason={_label(reason)}}} {count}"
            for reason, count in sorted(reasons.items())
        ]
    dropped = stats.get("calls_dropped", {})
    if dropped:
        lines += [
            "# HELP csm_collector_calls_dropped_total Calls dropped by the memory limits, by limit",
            "# TYPE csm_collector_calls_dropped_total counter",
        ]
        lines += [f'csm_collector_calls_dropped_total{{reason="{r}"}} {n}' for r, n in sorted(dropped.items())]
    for target, status in sorted(stats.get("publishing", {}).items()):
        lines.append(f'csm_collector_publish_pending{{target="{target}"}} {status["pending"]}')
        lines.append(f'csm_collector_publish_failures_total{{target="{target}"}} {status["failures"]}')
    for key, value in sorted(stats.get("access", {}).items()):
        lines.append(f'csm_collector_access_dropped_total{{reason="{key.removeprefix("dropped_")}"}} {value}')
    for key, value in sorted(stats.get("proxy", {}).items()):
        lines.append(f"csm_collector_proxy_{key}_total {value}")
    return "\n".join(lines + _otlp_lines(stats.get("otlp")) + _alert_lines(stats.get("alerts"))) + "\n"


def _record_lines(stats: dict[str, Any]) -> list[str]:
    """Every source's records: the totals over the sources, and each source's (a section with `records_received`)."""
    sources = source_sections(stats)
    lines = []
    for key, name, help_text in _RECORDS:
        if _is_number(stats.get(key)):
            total = f"{name}_all_sources_total"
            lines += [f"# HELP {total} {help_text}, every source", f"# TYPE {total} counter", f"{total} {stats[key]}"]
        if sources:
            lines += [f"# HELP {name}_total {help_text}, by source", f"# TYPE {name}_total counter"]
            lines += [f"{name}_total{{source={_label(n)}}} {part.get(key, 0)}" for n, part in sources.items()]
    return lines


_RECORDS = (
    ("records_received", "csm_collector_records_received", "Records received (datagrams, spans, AWS requests)"),
    ("rejected", "csm_collector_records_rejected", "Records rejected (malformed, unreadable, refused)"),
)


def _label(value: object) -> str:
    """A label value, quoted and escaped as the text format requires (backslash, double quote, line feed)."""
    text = str(value).replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{text}"'


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _alert_lines(alerts: dict[str, Any] | None) -> list[str]:
    """Alerts (`--alerts-*`): events by kind, what the gate dropped, each target's deliveries."""
    if not alerts:
        return []
    lines = [f'csm_collector_alerts_total{{kind="{kind}"}} {n}' for kind, n in sorted(alerts["events"].items())]
    lines += [f"csm_collector_alerts_{key}_total {alerts[key]}" for key in ("deduplicated", "rate_limited")]
    for target, status in sorted(alerts["sinks"].items()):
        for key in ("sent", "overflow", "failed_attempts", "expired"):
            lines.append(f'csm_collector_alerts_{key}_total{{target="{target}"}} {status[key]}')
        lines.append(f'csm_collector_alerts_pending{{target="{target}"}} {status["pending"]}')
    return lines


def _otlp_lines(otlp: dict[str, Any] | None) -> list[str]:
    """The OTLP receiver's counters (`--otlp-port`): spans by kind, requests refused by reason (a section a
    previous run saved, carried forward without the receiver, may lack some)."""
    if not otlp:
        return []
    lines = [
        "# HELP csm_collector_otlp_spans_total OTLP spans received, by kind",
        "# TYPE csm_collector_otlp_spans_total counter",
    ]
    lines += [f'csm_collector_otlp_spans_total{{kind="{kind}"}} {otlp.get(key, 0)}' for kind, key in _OTLP_SPANS]
    lines += [f"csm_collector_otlp_requests_accepted_total {otlp.get('requests_accepted', 0)}"]
    lines += [
        f"csm_collector_otlp_requests_refused_total{{reason={_label(r)}}} {n}"
        for r, n in otlp.get("refused_reasons", {}).items()
    ]
    return lines


_OTLP_SPANS = (("aws", "aws_spans"), ("ignored", "spans_ignored"), ("rejected", "spans_rejected"))


def health(stats: dict[str, Any]) -> dict[str, Any]:
    publishing = stats.get("publishing", {})
    problems = [f"{target} publishing failing" for target, status in publishing.items() if status.get("in_outage")]
    if stats.get("output_files_pending"):
        problems.append(f"{stats['output_files_pending']} output files not written")
    stalled = bool(stats.get("loop_stalled"))
    if stalled:
        problems.append(f"the service loop has not turned for {stats.get('loop_seconds_since_turn', 0):.0f}s")
    return {
        "status": "stalled" if stalled else "degraded" if problems else "ok",
        "problems": problems,
        "kernel_receive_drops": stats.get("csm", {}).get("kernel_receive_drops"),
        "uptime_seconds": stats.get("uptime_seconds"),
    }


def serve_metrics(host: str, port: int, source: StatsSource) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            status = 200
            if self.path == "/metrics":
                body, kind = prometheus_text(source()).encode(), "text/plain; version=0.0.4"
            elif self.path == "/health":
                report = health(source())
                body, kind = json.dumps(report).encode(), "application/json"
                status = 503 if report["status"] == "stalled" else 200
            else:
                self.send_error(404)
                return
            self.send_response(status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            return  # scrapes are not worth a log line each

    server = ThreadingHTTPServer((host, port), Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, name="csm-metrics", daemon=True).start()
    log.info("metrics on http://%s:%d/metrics (health: /health)", host, server.server_address[1])
    return server
