"""The alert flags of every running collector (listen, proxy); see core/alerts.py and README "Alerts and drift"."""

from __future__ import annotations

import argparse

from ..settings.options import LISTEN
from ..settings.values import non_negative_float, positive_float, positive_int, role_mappings

DEFAULTS = LISTEN.alerts


def add_alert_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("alerts and drift (NewAction, DeniedCall, Drift events)")
    group.add_argument(
        "--alerts-file", action="store_true", default=DEFAULTS.file, help="append alerts to <output-dir>/alerts.jsonl"
    )
    group.add_argument("--alerts-webhook", metavar="URL", help="POST each alert's JSON to this http(s) URL")
    group.add_argument("--alerts-event-bus", metavar="NAME", help="put alerts on this EventBridge bus (name or ARN)")
    group.add_argument(
        "--learning-period",
        type=non_negative_float,
        default=DEFAULTS.learning_period,
        metavar="SECONDS",
        help="per workload, no NewAction alerts for this long after it is first seen (default: %(default)s)",
    )
    group.add_argument(
        "--role-map",
        type=role_mappings,
        action="append",
        metavar="WORKLOAD=ARN",
        help="compare WORKLOAD with this role (or this Lambda function's role) for Drift alerts (repeatable; "
        "several separated by spaces)",
    )
    group.add_argument(
        "--drift-interval",
        type=positive_float,
        default=DEFAULTS.drift_interval,
        metavar="SECONDS",
        help="seconds between drift checks (default: %(default)s)",
    )
    group.add_argument(
        "--unused-after",
        type=non_negative_float,
        default=DEFAULTS.unused_after,
        metavar="SECONDS",
        help="report what a role grants and the workload never used once it was watched this long "
        "(default: %(default)s, a week)",
    )
    group.add_argument(
        "--alerts-rate",
        type=positive_float,
        default=DEFAULTS.rate,
        help="alerts a second on average at most; more are dropped and counted (default: %(default)s)",
    )
    group.add_argument(
        "--alerts-burst", type=positive_int, default=DEFAULTS.burst, help="in bursts of at most (default: %(default)s)"
    )
    group.add_argument(
        "--alerts-retry-window",
        type=positive_float,
        default=DEFAULTS.retry_window,
        metavar="SECONDS",
        help="retry a failed delivery with backoff for this long, then drop and count it (default: %(default)s)",
    )
