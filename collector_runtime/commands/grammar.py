"""The command line's grammar: the parser, and the flag groups several commands share. Each command's
own flags are declared in its module (`register`); every default comes from `settings.options`.
Every flag can also be set with the environment variable CSM_COLLECTOR_<FLAG> (see `settings`)."""

from __future__ import annotations

import argparse
import typing
from pathlib import Path
from typing import TYPE_CHECKING

from .. import __version__
from ..core.scoping import RESOURCE_SCOPES
from ..errors import ConfigError
from ..settings.options import LEARNED, LISTEN, OutputOptions
from ..settings.values import account_mapping, ip_address, port_number, positive_float, positive_int
from .alert_flags import add_alert_options

if TYPE_CHECKING:  # argparse's action is generic only for type checkers
    Subcommands = argparse._SubParsersAction[argparse.ArgumentParser]
else:
    Subcommands = argparse._SubParsersAction


class Parser(argparse.ArgumentParser):
    """A bad command line is a ConfigError (exit 2, one line naming the command and its --help), not
    argparse's usage block; its subcommand parsers are of this class too."""

    def error(self, message: str) -> typing.NoReturn:
        raise ConfigError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser() -> tuple[argparse.ArgumentParser, list[argparse.ArgumentParser]]:
    """The parser and its subcommand parsers."""
    from . import apply, attach, compare, demo, explain, export, ini, listen, proxy, proxy_env, replay, report

    parser = Parser(
        prog="csm-collector",
        description="Collect observed AWS API calls (SDK Client-Side Monitoring) and build least-privilege "
        "IAM policies.",
        epilog="Every flag can also be set as CSM_COLLECTOR_<FLAG> (e.g. CSM_COLLECTOR_PORT=31001).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for module in (listen, proxy, proxy_env, replay, report, compare, export, apply, attach, demo, explain, ini):
        module.register(commands)
    return parser, list(commands.choices.values())


def add_collector_options(parser: argparse.ArgumentParser) -> None:
    """What every running collector has (listen, proxy): flushes, live view, limits, metrics, log format."""
    parser.add_argument(
        "--flush-interval",
        type=positive_float,
        default=LISTEN.flush_interval,
        help="seconds between writes (default: %(default)s)",
    )
    parser.add_argument("--quiet", action="store_true", help="no live view")
    guard = parser.add_argument_group("limits and observability")
    limits = LISTEN.limits
    for flag, default, what in (
        ("--max-workloads", limits.max_workloads, "workloads kept at most"),
        ("--max-calls-per-workload", limits.max_calls_per_workload, "distinct Service/Api pairs per workload"),
        ("--max-scopes-per-call", limits.max_scopes_per_call, "distinct region/account/resources per call"),
    ):
        guard.add_argument(
            flag,
            type=positive_int,
            default=default,
            help=f"{what} at most; further ones are dropped and counted (default: %(default)s)",
        )
    guard.add_argument(
        "--metrics-port", type=port_number, help="serve Prometheus /metrics and /health on this TCP port (default: off)"
    )
    guard.add_argument(
        "--metrics-host",
        type=ip_address,
        default=LISTEN.metrics_host,
        help="address for --metrics-port (default: %(default)s)",
    )
    guard.add_argument(
        "--log-format", choices=("text", "json"), default=LISTEN.log_format, help="(default: %(default)s)"
    )
    add_alert_options(parser)


def add_output_options(parser: argparse.ArgumentParser, defaults: OutputOptions) -> None:
    group = parser.add_argument_group("policy")
    group.add_argument(
        "--output-dir",
        type=Path,
        default=defaults.output_dir,
        help="where results are written (default: %(default)s)",
    )
    group.add_argument(
        "--fails-only",
        action="store_true",
        default=defaults.policy.fails_only,
        help="only learn from calls that failed, e.g. AccessDenied loops",
    )
    group.add_argument(
        "--sort-alphabetical",
        action=argparse.BooleanOptionalAction,
        default=defaults.policy.sort_alphabetical,
        help="sort actions alphabetically instead of first-seen order (default: on)",
    )
    group.add_argument(
        "--force-wildcard-resource",
        action="store_true",
        default=defaults.policy.force_wildcard_resource,
        help='always use "Resource": "*" (no resource scoping at all)',
    )
    group.add_argument(
        "--dependent-actions",
        action=argparse.BooleanOptionalAction,
        default=defaults.policy.include_dependent,
        help="also grant every request-dependent action the calls may need, in their own statements (default: off)",
    )
    group.add_argument(
        "--resource-scope",
        choices=RESOURCE_SCOPES,
        default=defaults.policy.resource_scope,
        help="how far a resource the calls did not name is scoped: to the call's region and account, its account "
        "only, or neither (default: %(default)s)",
    )
    group.add_argument(
        "--exact-names",
        action=argparse.BooleanOptionalAction,
        default=defaults.policy.exact_names,
        help="grant the resource names the calls used as they are, without turning their generated parts "
        "(dates, UUIDs, random suffixes) into wildcards (default: off)",
    )
    group.add_argument(
        "--max-policy-chars",
        type=positive_int,
        default=defaults.max_policy_chars,
        help="split a policy into parts above this size (default: %(default)s, IAM's managed-policy limit)",
    )
    group.add_argument(
        "--explain", action="store_true", default=defaults.explain, help="show where each mapping comes from"
    )


def add_region(parser: argparse.ArgumentParser, what: str = "AWS region") -> None:
    parser.add_argument("--region", help=f"{what} (default: the SDK's usual lookup)")


def add_publishing_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("publishing and archive (need boto3 for S3/SSM)")
    group.add_argument("--s3-bucket", help="publish policies, stats, history and the archive to this bucket")
    group.add_argument("--s3-prefix", default=LISTEN.s3_prefix, help="key prefix in the bucket (default: %(default)s)")
    group.add_argument("--ssm-prefix", help="publish each policy to the SSM parameter <prefix>/policies/<workload>")
    add_region(group, "AWS region for S3/SSM")  # type: ignore[arg-type]
    group.add_argument(
        "--ssm-rate",
        type=positive_float,
        default=LISTEN.ssm_rate,
        help="SSM PutParameter calls per second at most (default: %(default)s)",
    )
    group.add_argument(
        "--publish-timeout",
        type=positive_float,
        default=LISTEN.publish_timeout,
        help="seconds to finish publishing at shutdown (default: %(default)s)",
    )
    group.add_argument(
        "--archive",
        action=argparse.BooleanOptionalAction,
        default=LISTEN.archive,
        help="keep every observed call in gzip JSON-lines files, uploaded when --s3-bucket is set",
    )
    group.add_argument(
        "--archive-dir", type=Path, help="where archive files are written (default: <output-dir>/archive)"
    )
    group.add_argument(
        "--archive-max-bytes",
        type=positive_int,
        default=LISTEN.archive_max_bytes,
        help="roll an archive file after this many uncompressed bytes (default: %(default)s)",
    )
    group.add_argument(
        "--archive-max-seconds",
        type=positive_float,
        default=LISTEN.archive_max_seconds,
        help="roll an archive file after this many seconds (default: %(default)s)",
    )
    group.add_argument("--collector-id", help="names this collector's archive files (default: the host name)")
    group.add_argument(
        "--archive-s3-prefix",
        metavar="PREFIX",
        help="upload archive files under this key prefix instead of <s3-prefix>archive/, e.g. the CSM "
        "collector's, so one Athena table reads every source",
    )


def add_account_map(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--account-map",
        type=account_mapping,
        action="append",
        metavar="LEARNED=TARGET",
        help="write the learned account LEARNED as the account TARGET (repeatable); without it, the learning "
        "account becomes the target's own",
    )


def add_learned_input(parser: argparse.ArgumentParser, *, workload_help: str) -> None:
    """Where `export` and `apply` read learned policies: an output directory or the results bucket."""
    group = parser.add_argument_group("learned policies")
    group.add_argument("--workload", help=workload_help)
    group.add_argument(
        "--output-dir", type=Path, default=LEARNED.output_dir, help="the collector's output (default: %(default)s)"
    )
    group.add_argument("--s3-bucket", help="read the results bucket instead of --output-dir")
    group.add_argument("--s3-prefix", default=LISTEN.s3_prefix, help="key prefix in the bucket (default: %(default)s)")
    group.add_argument(
        "--max-policy-chars",
        type=positive_int,
        default=LEARNED.max_policy_chars,
        help="split into managed policies under this size (default: %(default)s, IAM's limit)",
    )
    add_account_map(group)  # type: ignore[arg-type]
    add_region(group)  # type: ignore[arg-type]
