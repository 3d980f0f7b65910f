"""The command line's grammar: every subcommand, flag and default. Every flag can also be set with
the environment variable CSM_COLLECTOR_<FLAG> (see settings.py)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping, Sequence
from pathlib import Path

from . import __version__
from .settings import (
    DEFAULT_ARCHIVE_MAX_BYTES,
    DEFAULT_ARCHIVE_MAX_SECONDS,
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_HOST,
    DEFAULT_LIMITS,
    DEFAULT_OUTPUT_DIR,
    DEFAULT_PORT,
    DEFAULT_PUBLISH_TIMEOUT,
    DEFAULT_RECEIVE_BUFFER,
    DEFAULT_S3_PREFIX,
    DEFAULT_SSM_RATE,
    apply_env_defaults,
    day,
    port_number,
    positive_float,
    positive_int,
)


def _add_policy_options(parser: argparse.ArgumentParser, default_output: Path = DEFAULT_OUTPUT_DIR) -> None:
    group = parser.add_argument_group("policy")
    group.add_argument(
        "--output-dir", type=Path, default=default_output, help="where results are written (default: %(default)s)"
    )
    group.add_argument(
        "--fails-only", action="store_true", help="only learn from calls that failed, e.g. AccessDenied loops"
    )
    group.add_argument(
        "--sort-alphabetical",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="sort actions alphabetically instead of first-seen order (default: on)",
    )
    group.add_argument(
        "--force-wildcard-resource", action="store_true", help='always use "Resource": "*" (no S3 bucket scoping)'
    )
    group.add_argument(
        "--dependent-actions",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="add documented dependent actions and iam:PassRole in a separate statement (default: on)",
    )
    group.add_argument(
        "--max-policy-chars",
        type=positive_int,
        default=6144,
        help="split a policy into parts above this size (default: %(default)s, IAM's managed-policy limit)",
    )
    group.add_argument("--explain", action="store_true", help="show where each mapping comes from")


def _add_publishing_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("publishing and archive (need boto3 for S3/SSM)")
    group.add_argument("--s3-bucket", help="publish policies, stats, history and the archive to this bucket")
    group.add_argument("--s3-prefix", default=DEFAULT_S3_PREFIX, help="key prefix in the bucket (default: %(default)s)")
    group.add_argument("--ssm-prefix", help="publish each policy to the SSM parameter <prefix>/policies/<workload>")
    group.add_argument("--region", help="AWS region for S3/SSM (default: the SDK's usual lookup)")
    group.add_argument(
        "--ssm-rate",
        type=positive_float,
        default=DEFAULT_SSM_RATE,
        help="SSM PutParameter calls per second at most (default: %(default)s)",
    )
    group.add_argument(
        "--publish-timeout",
        type=positive_float,
        default=DEFAULT_PUBLISH_TIMEOUT,
        help="seconds to finish publishing at shutdown (default: %(default)s)",
    )
    group.add_argument(
        "--archive",
        action=argparse.BooleanOptionalAction,
        default=False,
        help="keep every event (redacted) in gzip JSON-lines files, uploaded when --s3-bucket is set",
    )
    group.add_argument(
        "--archive-dir", type=Path, help="where archive files are written (default: <output-dir>/archive)"
    )
    group.add_argument(
        "--archive-max-bytes",
        type=positive_int,
        default=DEFAULT_ARCHIVE_MAX_BYTES,
        help="roll an archive file after this many uncompressed bytes (default: %(default)s)",
    )
    group.add_argument(
        "--archive-max-seconds",
        type=positive_float,
        default=DEFAULT_ARCHIVE_MAX_SECONDS,
        help="roll an archive file after this many seconds (default: %(default)s)",
    )
    group.add_argument("--collector-id", help="names this collector's archive files (default: the host name)")


def build_parser() -> tuple[argparse.ArgumentParser, list[argparse.ArgumentParser]]:
    """The parser and its subcommand parsers."""
    parser = argparse.ArgumentParser(
        prog="csm-collector",
        description="Collect AWS SDK Client-Side Monitoring events and build least-privilege IAM policies.",
        epilog="Every flag can also be set as CSM_COLLECTOR_<FLAG> (e.g. CSM_COLLECTOR_PORT=31001).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for add in (_listen, _replay, _report, _compare, _attach, _demo, _explain, _ini):
        add(commands)
    return parser, list(commands.choices.values())


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> argparse.Namespace:
    parser, subparsers = build_parser()
    for sub in subparsers:
        apply_env_defaults(sub, environ)
    return parser.parse_args(argv)


def _listen(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    listen = commands.add_parser("listen", help="listen for CSM datagrams and keep policies up to date")
    listen.add_argument(
        "--host", default=DEFAULT_HOST, help="address to listen on; 0.0.0.0 for other machines (default: %(default)s)"
    )
    listen.add_argument("--port", type=port_number, default=DEFAULT_PORT, help="UDP port (default: %(default)s)")
    listen.add_argument(
        "--flush-interval",
        type=positive_float,
        default=DEFAULT_FLUSH_INTERVAL,
        help="seconds between writes (default: %(default)s)",
    )
    listen.add_argument(
        "--receive-buffer",
        type=positive_int,
        default=DEFAULT_RECEIVE_BUFFER,
        help="socket receive buffer to request, bytes (default: %(default)s)",
    )
    listen.add_argument("--quiet", action="store_true", help="no live view")
    guard = listen.add_argument_group("access, limits and observability")
    guard.add_argument(
        "--allow-from", metavar="CIDR,...", help="only accept datagrams from these networks (default: any)"
    )
    guard.add_argument(
        "--rate-limit",
        type=positive_float,
        metavar="N",
        help="at most N datagrams/s per source address, bursts of N (default: no limit)",
    )
    guard.add_argument(
        "--max-workloads",
        type=positive_int,
        default=DEFAULT_LIMITS.max_workloads,
        help="workloads (ClientIds) kept at most; events of further ones are dropped and counted "
        "(default: %(default)s)",
    )
    guard.add_argument(
        "--max-calls-per-workload",
        type=positive_int,
        default=DEFAULT_LIMITS.max_calls_per_workload,
        help="distinct Service/Api pairs per workload at most (default: %(default)s)",
    )
    guard.add_argument(
        "--metrics-port", type=port_number, help="serve Prometheus /metrics and /health on this TCP port (default: off)"
    )
    guard.add_argument("--metrics-host", default="127.0.0.1", help="address for --metrics-port (default: %(default)s)")
    guard.add_argument("--log-format", choices=("text", "json"), default="text", help="(default: %(default)s)")
    _add_policy_options(listen)
    _add_publishing_options(listen)


def _replay(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    replay_cmd = commands.add_parser(
        "replay", help="run captured datagrams (JSON lines, .gz ok, - for stdin) through the pipeline"
    )
    replay_cmd.add_argument("files", nargs="+", metavar="FILE")
    replay_cmd.add_argument("--quiet", action="store_true", help="no summary")
    _add_policy_options(replay_cmd)


def _report(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    report = commands.add_parser(
        "report", help="build the policies from the raw-event archive: DuckDB locally, or Athena over S3"
    )
    report.add_argument(
        "--archive-dir",
        dest="archive_dirs",
        type=Path,
        action="append",
        help="an archive directory (repeatable, e.g. one per collector; default: csm-output/archive)",
    )
    report.add_argument("--athena", action="store_true", help="query the S3 archive with Athena instead")
    report.add_argument("--database", default="csm_collector", help="Athena/Glue database (default: %(default)s)")
    report.add_argument("--table", default="events", help="Athena/Glue table (default: %(default)s)")
    report.add_argument("--workgroup", default="csm-collector", help="Athena workgroup (default: %(default)s)")
    report.add_argument("--region", help="AWS region for Athena (default: the SDK's usual lookup)")
    report.add_argument("--since", type=day, help="first UTC day to include, YYYY-MM-DD")
    report.add_argument("--until", type=day, help="last UTC day to include, YYYY-MM-DD")
    _add_policy_options(report, default_output=Path("csm-report"))


def _compare(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    compare = commands.add_parser(
        "compare", help="what a role grants but the workload never used (excessive), and what it used but lacks"
    )
    observed = compare.add_mutually_exclusive_group(required=True)
    observed.add_argument("--workload", help="the workload (ClientId) whose policy in --output-dir is compared")
    observed.add_argument("--observed", type=Path, help="an observed policy file")
    observed.add_argument("--observed-s3", metavar="S3_URI", help="an observed policy in S3 (s3://bucket/key)")
    observed.add_argument("--observed-ssm", metavar="NAME", help="an observed policy in an SSM parameter")
    compare.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR, help="with --workload (default: %(default)s)"
    )
    granted = compare.add_mutually_exclusive_group(required=True)
    granted.add_argument("--role", help="an IAM role: its inline and attached managed policies")
    granted.add_argument("--function", help="a Lambda function: its execution role")
    granted.add_argument("--policy-file", type=Path, action="append", help="granted policy file (repeatable; offline)")
    compare.add_argument("--format", choices=("json", "markdown"), default="markdown", help="(default: %(default)s)")
    compare.add_argument("--report-file", type=Path, help="write the report here instead of standard output")
    compare.add_argument(
        "--fail-on",
        action="append",
        choices=("excessive", "missing"),
        default=[],
        help="exit 1 if there are findings of this kind (repeatable), e.g. in CI",
    )
    compare.add_argument("--region", help="AWS region (default: the SDK's usual lookup)")


def _demo(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    demo = commands.add_parser(
        "demo", help="no AWS account needed: a boto3 workload against moto, and the policy it needs"
    )
    demo.add_argument(
        "--output-dir",
        type=Path,
        default=Path("csm-demo-output"),
        help="where results are written (default: %(default)s)",
    )


def _explain(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    explain_cmd = commands.add_parser(
        "explain", help="show how a call maps to IAM actions, or what an output directory learned"
    )
    explain_cmd.add_argument(
        "service", nargs="?", help="CSM Service (botocore serviceId), e.g. S3 or 'CloudWatch Logs'"
    )
    explain_cmd.add_argument("api", nargs="?", help="CSM Api (operation name), e.g. ListBuckets")
    explain_cmd.add_argument("--output-dir", type=Path, help="explain the calls recorded in this output directory")
    explain_cmd.add_argument("--workload", help="only this workload (ClientId)")


def _ini(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    for name, verb in (("set-ini", "switch on"), ("unset-ini", "switch off")):
        ini = commands.add_parser(
            name, help=f"{verb} csm_enabled in the AWS config file ($AWS_CONFIG_FILE or ~/.aws/config)"
        )
        ini.add_argument("--profile", default="default", help="profile to edit (default: %(default)s)")
        if name == "set-ini":
            ini.add_argument("--csm-host", help="also set csm_host")
            ini.add_argument("--csm-port", type=port_number, help="also set csm_port")
            ini.add_argument("--csm-client-id", help="also set csm_client_id")


def _attach(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    attach = commands.add_parser("attach", help="point Lambda functions at a collector (AWS_CSM_* variables)")
    attach.add_argument("functions", nargs="+", metavar="FUNCTION", help="function names or ARNs")
    where = attach.add_mutually_exclusive_group(required=True)
    where.add_argument("--host", help="the collector's address (IP or DNS name)")
    where.add_argument("--ssm-prefix", help="read the address from <prefix>/collector/address (the CDK stack's)")
    attach.add_argument(
        "--port", type=port_number, help=f"UDP port (default: from SSM with --ssm-prefix, else {DEFAULT_PORT})"
    )
    attach.add_argument("--client-id", help="AWS_CSM_CLIENT_ID for all of them (default: each function's name)")
    attach.add_argument("--dry-run", action="store_true", help="show the changes without making them")
    attach.add_argument("--region", help="AWS region (default: the SDK's usual lookup)")
    detach = commands.add_parser("detach", help="restore the environment functions had before attach")
    detach.add_argument("functions", nargs="+", metavar="FUNCTION")
    detach.add_argument("--dry-run", action="store_true", help="show the changes without making them")
    detach.add_argument("--region", help="AWS region (default: the SDK's usual lookup)")
