"""The alert flags of every running collector (listen, proxy); see core/alerts.py and README "Alerts and drift"."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from ...contract import role_mappings
from ..flags import flag, group
from ..values import non_negative_float, positive_float, positive_int, webhook_url


@dataclass(frozen=True)
class AlertOptions:
    """Alerts of a running collector (listen, proxy): off unless a target is given (see core/alerts.py)."""

    file: bool = False  # alerts.jsonl in the output directory
    webhook: str | None = None
    event_bus: str | None = None  # an EventBridge bus name or ARN
    learning_period: float = 0.0  # seconds per workload before NewAction alerts (none by default)
    role_map: tuple[tuple[str, str], ...] = ()  # (workload, role ARN or Lambda function ARN) for drift
    drift_interval: float = 3600.0
    unused_after: float = 7 * 86400.0  # seconds watched before "granted, never used" drift is reported
    rate: float = 1.0  # alerts a second on average at most, in bursts of `burst`
    burst: int = 100
    retry_window: float = 600.0  # seconds a failed delivery is retried before the events are dropped

    @property
    def enabled(self) -> bool:
        return bool(self.file or self.webhook or self.event_bus)


DEFAULTS = AlertOptions()

ALERT_FLAGS = group(
    "alerts and drift (NewAction, DeniedCall, Drift events)",
    flag(
        "--alerts-file", action="store_true", default=DEFAULTS.file, help="append alerts to <output-dir>/alerts.jsonl"
    ),
    flag("--alerts-webhook", metavar="URL", help="POST each alert's JSON to this http(s) URL"),
    flag("--alerts-event-bus", metavar="NAME", help="put alerts on this EventBridge bus (name or ARN)"),
    flag(
        "--learning-period",
        type=non_negative_float,
        default=DEFAULTS.learning_period,
        metavar="SECONDS",
        help="per workload, no NewAction alerts for this long after it is first seen (default: %(default)s)",
    ),
    flag(
        "--role-map",
        type=role_mappings,
        action="append",
        metavar="WORKLOAD=ARN",
        help="compare WORKLOAD with this role (or this Lambda function's role) for Drift alerts (repeatable; "
        "several separated by spaces)",
    ),
    flag(
        "--drift-interval",
        type=positive_float,
        default=DEFAULTS.drift_interval,
        metavar="SECONDS",
        help="seconds between drift checks (default: %(default)s)",
    ),
    flag(
        "--unused-after",
        type=non_negative_float,
        default=DEFAULTS.unused_after,
        metavar="SECONDS",
        help="report what a role grants and the workload never used once it was watched this long "
        "(default: %(default)s, a week)",
    ),
    flag(
        "--alerts-rate",
        type=positive_float,
        default=DEFAULTS.rate,
        help="alerts a second on average at most; more are dropped and counted (default: %(default)s)",
    ),
    flag(
        "--alerts-burst", type=positive_int, default=DEFAULTS.burst, help="in bursts of at most (default: %(default)s)"
    ),
    flag(
        "--alerts-retry-window",
        type=positive_float,
        default=DEFAULTS.retry_window,
        metavar="SECONDS",
        help="retry a failed delivery with backoff for this long, then drop and count it (default: %(default)s)",
    ),
)


def alert_options(args: argparse.Namespace) -> AlertOptions:
    return AlertOptions(
        file=args.alerts_file,
        webhook=webhook_url(args.alerts_webhook) if args.alerts_webhook else None,
        event_bus=args.alerts_event_bus or None,
        learning_period=args.learning_period,
        role_map=tuple(dict(pair for group in args.role_map or () for pair in group).items()),
        drift_interval=args.drift_interval,
        unused_after=args.unused_after,
        rate=args.alerts_rate,
        burst=args.alerts_burst,
        retry_window=args.alerts_retry_window,
    )
