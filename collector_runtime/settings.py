"""The one place that reads runtime configuration: defaults < CSM_COLLECTOR_* environment < flags.

Every command-line flag `--some-flag` can also be set with the environment variable
`CSM_COLLECTOR_SOME_FLAG` (booleans: true/false, 1/0, yes/no, on/off). The result is a frozen
`Settings`; nothing else in the package looks at the environment or at argv.
"""

from __future__ import annotations

import argparse
import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from .core.aggregate import Limits
from .core.policy import MANAGED_POLICY_MAX_CHARS, PolicyOptions

ENV_PREFIX = "CSM_COLLECTOR_"
DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 31000
DEFAULT_OUTPUT_DIR = Path("csm-output")
DEFAULT_FLUSH_INTERVAL = 10.0
DEFAULT_RECEIVE_BUFFER = 32 * 1024 * 1024
DEFAULT_S3_PREFIX = "csm-collector/"
DEFAULT_PUBLISH_TIMEOUT = 30.0
DEFAULT_SSM_RATE = 2.0
DEFAULT_ARCHIVE_MAX_BYTES = 64 * 1024 * 1024
DEFAULT_ARCHIVE_MAX_SECONDS = 300.0
DEFAULT_LIMITS = Limits()
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


class ConfigError(ValueError):
    """A setting that cannot be used; the message says which and why."""


@dataclass(frozen=True)
class Settings:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    output_dir: Path = DEFAULT_OUTPUT_DIR
    flush_interval: float = DEFAULT_FLUSH_INTERVAL
    receive_buffer: int = DEFAULT_RECEIVE_BUFFER
    quiet: bool = False
    explain: bool = False
    max_policy_chars: int = MANAGED_POLICY_MAX_CHARS
    policy: PolicyOptions = field(default_factory=PolicyOptions)
    s3_bucket: str | None = None
    s3_prefix: str = DEFAULT_S3_PREFIX
    ssm_prefix: str | None = None
    region: str | None = None
    publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT
    ssm_rate: float = DEFAULT_SSM_RATE
    archive: bool = False
    archive_dir: Path | None = None  # default: <output-dir>/archive
    archive_max_bytes: int = DEFAULT_ARCHIVE_MAX_BYTES
    archive_max_seconds: float = DEFAULT_ARCHIVE_MAX_SECONDS
    collector_id: str | None = None  # default: the host name
    allow_from: str | None = None  # comma-separated networks; None: any source
    rate_limit: float | None = None  # datagrams per second per source; None: unlimited
    limits: Limits = field(default_factory=Limits)
    metrics_port: int | None = None
    metrics_host: str = "127.0.0.1"
    log_format: str = "text"

    @property
    def archive_directory(self) -> Path:
        return self.archive_dir or self.output_dir / "archive"


def env_name(dest: str) -> str:
    return ENV_PREFIX + dest.upper()


def apply_env_defaults(parser: argparse.ArgumentParser, environ: Mapping[str, str]) -> None:
    """Make CSM_COLLECTOR_<FLAG> the default of each flag of `parser` (flags still win)."""
    for action in parser._actions:  # argparse offers no public iterator over a parser's options
        if not action.option_strings or action.dest in ("help", "version"):
            continue
        raw = environ.get(env_name(action.dest))
        if raw is None:
            continue
        action.default = _convert(action, raw)
        action.required = False


def _convert(action: argparse.Action, raw: str) -> object:
    name = env_name(action.dest)
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):
        lowered = raw.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ConfigError(f"{name}={raw!r}: expected true or false")
        return lowered in _TRUE
    try:
        return action.type(raw) if callable(action.type) else raw
    except (TypeError, ValueError, argparse.ArgumentTypeError) as error:
        raise ConfigError(f"{name}={raw!r}: {error}") from error


def port_number(text: str) -> int:
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 0 and 65535")
    return port


def positive_float(text: str) -> float:
    value = float(text)
    if not value > 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def day(text: str) -> str:
    """A UTC day, YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from error


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def settings_from(args: argparse.Namespace) -> Settings:
    """Build the frozen settings from parsed arguments (defaults already include the environment)."""
    values = vars(args)
    return Settings(
        host=values.get("host", DEFAULT_HOST),
        port=values.get("port", DEFAULT_PORT),
        output_dir=Path(values.get("output_dir", DEFAULT_OUTPUT_DIR)),
        flush_interval=values.get("flush_interval", DEFAULT_FLUSH_INTERVAL),
        receive_buffer=values.get("receive_buffer", DEFAULT_RECEIVE_BUFFER),
        quiet=values.get("quiet", False),
        explain=values.get("explain", False),
        max_policy_chars=values.get("max_policy_chars", MANAGED_POLICY_MAX_CHARS),
        policy=PolicyOptions(
            sort_alphabetical=values.get("sort_alphabetical", True),
            force_wildcard_resource=values.get("force_wildcard_resource", False),
            include_dependent=values.get("dependent_actions", True),
            fails_only=values.get("fails_only", False),
        ),
        s3_bucket=values.get("s3_bucket") or None,
        s3_prefix=values.get("s3_prefix", DEFAULT_S3_PREFIX),
        ssm_prefix=values.get("ssm_prefix") or None,
        region=values.get("region") or None,
        publish_timeout=values.get("publish_timeout", DEFAULT_PUBLISH_TIMEOUT),
        ssm_rate=values.get("ssm_rate", DEFAULT_SSM_RATE),
        archive=values.get("archive", False),
        archive_dir=Path(values["archive_dir"]) if values.get("archive_dir") else None,
        archive_max_bytes=values.get("archive_max_bytes", DEFAULT_ARCHIVE_MAX_BYTES),
        archive_max_seconds=values.get("archive_max_seconds", DEFAULT_ARCHIVE_MAX_SECONDS),
        collector_id=values.get("collector_id") or None,
        allow_from=values.get("allow_from") or None,
        rate_limit=values.get("rate_limit"),
        limits=Limits(
            max_workloads=values.get("max_workloads", DEFAULT_LIMITS.max_workloads),
            max_calls_per_workload=values.get("max_calls_per_workload", DEFAULT_LIMITS.max_calls_per_workload),
        ),
        metrics_port=values.get("metrics_port"),
        metrics_host=values.get("metrics_host", "127.0.0.1"),
        log_format=values.get("log_format", "text"),
    )
