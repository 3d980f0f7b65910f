"""What every running collector has (listen, proxy): flushes, live view, limits, metrics, log format, alerts,
output, publishing and archive; their flags and `CollectorOptions`."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

from ...contract import DEFAULT_METRICS_HOST, DEFAULT_PUBLISH_TIMEOUT, DEFAULT_S3_PREFIX
from ...core.aggregate import Limits
from ...core.publish_plan import PublishTargets
from ...limits import ARCHIVE_FILE_MAX_BYTES, ARCHIVE_FILE_MAX_SECONDS
from ..flags import Flag, Group, flag, group
from ..values import (
    collector_id,
    ip_address,
    normalise_s3_prefix,
    normalise_ssm_prefix,
    port_number,
    positive_float,
    positive_int,
)
from .alerts import ALERT_FLAGS, AlertOptions, alert_options
from .aws import region_flag
from .output import OutputOptions, output_flags, output_options


@dataclass(frozen=True, kw_only=True)
class CollectorOptions:
    """A running collector, whatever its source. Building these touches nothing: the output and archive
    directories are checked, and the host name looked up, when the command starts (commands/startup.py)."""

    flush_interval: float = 10.0
    quiet: bool = False
    output: OutputOptions = field(default_factory=OutputOptions)
    s3_bucket: str | None = None
    s3_prefix: str = DEFAULT_S3_PREFIX  # normalised: "" or ending in "/"
    ssm_prefix: str | None = None  # normalised: starts with "/", no trailing "/"
    region: str | None = None
    publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT
    ssm_rate: float = 2.0
    archive: bool = False
    archive_dir: Path | None = None  # None: <output-dir>/archive
    archive_s3_prefix: str | None = None  # None: <s3-prefix>archive/ (another writer's archive: one Athena table)
    archive_max_bytes: int = ARCHIVE_FILE_MAX_BYTES
    archive_max_seconds: float = ARCHIVE_FILE_MAX_SECONDS
    collector_id: str | None = None  # None: the host name (looked up at start-up)
    limits: Limits = field(default_factory=Limits)
    metrics_port: int | None = None
    metrics_host: str = DEFAULT_METRICS_HOST
    log_format: str = "text"
    alerts: AlertOptions = field(default_factory=AlertOptions)

    @property
    def archive_directory(self) -> Path:
        return self.archive_dir or self.output.output_dir / "archive"

    @property
    def publish_targets(self) -> PublishTargets:
        return PublishTargets(
            bucket=self.s3_bucket,
            prefix=self.s3_prefix,
            ssm_prefix=self.ssm_prefix,
            archive_prefix=self.archive_s3_prefix,
        )


DEFAULTS = CollectorOptions()
Extended = TypeVar("Extended", bound=CollectorOptions)


def _limit_flag(name: str, default: int, what: str) -> Flag:
    return flag(
        name,
        type=positive_int,
        default=default,
        help=f"{what} at most; further ones are dropped and counted (default: %(default)s)",
    )


RUNNING_FLAGS = group(
    None,
    flag(
        "--flush-interval",
        type=positive_float,
        default=DEFAULTS.flush_interval,
        help="seconds between writes (default: %(default)s)",
    ),
    flag("--quiet", action="store_true", help="no live view"),
    group(
        "limits and observability",
        _limit_flag("--max-workloads", DEFAULTS.limits.max_workloads, "workloads kept at most"),
        _limit_flag(
            "--max-calls-per-workload",
            DEFAULTS.limits.max_calls_per_workload,
            "distinct Service/Api pairs per workload",
        ),
        _limit_flag(
            "--max-scopes-per-call", DEFAULTS.limits.max_scopes_per_call, "distinct region/account/resources per call"
        ),
        flag(
            "--metrics-port",
            type=port_number,
            help="serve Prometheus /metrics and /health on this TCP port (default: off)",
        ),
        flag(
            "--metrics-host",
            type=ip_address,
            default=DEFAULTS.metrics_host,
            help="address for --metrics-port (default: %(default)s)",
        ),
        flag("--log-format", choices=("text", "json"), default=DEFAULTS.log_format, help="(default: %(default)s)"),
    ),
    ALERT_FLAGS,
)

PUBLISHING_FLAGS = group(
    "publishing and archive (need boto3 for S3/SSM)",
    flag("--s3-bucket", help="publish policies, stats, history and the archive to this bucket"),
    flag("--s3-prefix", default=DEFAULTS.s3_prefix, help="key prefix in the bucket (default: %(default)s)"),
    flag("--ssm-prefix", help="publish each policy to the SSM parameter <prefix>/policies/<workload>"),
    region_flag("AWS region for S3/SSM"),
    flag(
        "--ssm-rate",
        type=positive_float,
        default=DEFAULTS.ssm_rate,
        help="SSM PutParameter calls per second at most (default: %(default)s)",
    ),
    flag(
        "--publish-timeout",
        type=positive_float,
        default=DEFAULTS.publish_timeout,
        help="seconds to finish publishing at shutdown (default: %(default)s)",
    ),
    flag(
        "--archive",
        action=argparse.BooleanOptionalAction,
        default=DEFAULTS.archive,
        help="keep every observed call in gzip JSON-lines files, uploaded when --s3-bucket is set",
    ),
    flag("--archive-dir", type=Path, help="where archive files are written (default: <output-dir>/archive)"),
    flag(
        "--archive-max-bytes",
        type=positive_int,
        default=DEFAULTS.archive_max_bytes,
        help="roll an archive file after this many uncompressed bytes (default: %(default)s)",
    ),
    flag(
        "--archive-max-seconds",
        type=positive_float,
        default=DEFAULTS.archive_max_seconds,
        help="roll an archive file after this many seconds (default: %(default)s)",
    ),
    flag("--collector-id", help="names this collector's archive files (default: the host name)"),
    flag(
        "--archive-s3-prefix",
        metavar="PREFIX",
        help="upload archive files under this key prefix instead of <s3-prefix>archive/, e.g. the CSM "
        "collector's, so one Athena table reads every source",
    ),
)


def collector_flags(*source_flags: Group) -> tuple[Group, ...]:
    """A running collector's flags, with its source's own groups between the running and the policy flags."""
    return (RUNNING_FLAGS, *source_flags, output_flags(DEFAULTS.output), PUBLISHING_FLAGS)


def collector_options(args: argparse.Namespace) -> CollectorOptions:
    return CollectorOptions(
        flush_interval=args.flush_interval,
        quiet=args.quiet,
        output=output_options(args),
        s3_bucket=args.s3_bucket or None,
        s3_prefix=normalise_s3_prefix(args.s3_prefix),
        ssm_prefix=normalise_ssm_prefix(args.ssm_prefix) if args.ssm_prefix else None,
        region=args.region or None,
        publish_timeout=args.publish_timeout,
        ssm_rate=args.ssm_rate,
        archive=args.archive,
        archive_dir=Path(args.archive_dir) if args.archive_dir else None,
        archive_s3_prefix=normalise_s3_prefix(args.archive_s3_prefix) if args.archive_s3_prefix else None,
        archive_max_bytes=args.archive_max_bytes,
        archive_max_seconds=args.archive_max_seconds,
        collector_id=collector_id(args.collector_id) if args.collector_id else None,
        limits=Limits(
            max_workloads=args.max_workloads,
            max_calls_per_workload=args.max_calls_per_workload,
            max_scopes_per_call=args.max_scopes_per_call,
        ),
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        log_format=args.log_format,
        alerts=alert_options(args),
    )


def extended(base: CollectorOptions, kind: type[Extended], **own: Any) -> Extended:
    """`base` as the options of a collector with a source of its own (listen): its fields and `own`."""
    return kind(**{each.name: getattr(base, each.name) for each in fields(base)}, **own)
