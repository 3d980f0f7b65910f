"""Command line: parses, builds settings, delegates. Exit status 0 ok, 1 failure, 2 bad usage."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import re
import signal
import socket
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from . import __version__, awsconfig, explain
from .archive import ArchiveOptions, ArchiveWriter, pending_files
from .aws import AwsUnavailable, aws_clients
from .collector import CollectorService
from .core.aggregate import Aggregator
from .core.state import restore
from .demo import DemoUnavailable, run_demo
from .listener import UdpListener
from .live import LiveView
from .mapping_data import load_action_map
from .outputs import OutputWriter
from .publish import Publisher, PublishTargets, normalise_s3_prefix, normalise_ssm_prefix
from .replay import ReplayError, replay
from .report import AthenaSource, ReportError, athena_runner, athena_table, build_state, duckdb_runner, duckdb_source
from .settings import (
    DEFAULT_ARCHIVE_MAX_BYTES,
    DEFAULT_ARCHIVE_MAX_SECONDS,
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_HOST,
    DEFAULT_OUTPUT_DIR,
    DEFAULT_PORT,
    DEFAULT_PUBLISH_TIMEOUT,
    DEFAULT_RECEIVE_BUFFER,
    DEFAULT_S3_PREFIX,
    DEFAULT_SSM_RATE,
    ConfigError,
    Settings,
    apply_env_defaults,
    day,
    port_number,
    positive_float,
    positive_int,
    settings_from,
)

log = logging.getLogger("csm_collector")


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
    _add_policy_options(listen)
    _add_publishing_options(listen)

    replay_cmd = commands.add_parser(
        "replay", help="run captured datagrams (JSON lines, .gz ok, - for stdin) through the pipeline"
    )
    replay_cmd.add_argument("files", nargs="+", metavar="FILE")
    replay_cmd.add_argument("--quiet", action="store_true", help="no summary")
    _add_policy_options(replay_cmd)

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

    demo = commands.add_parser(
        "demo", help="no AWS account needed: a boto3 workload against moto, and the policy it needs"
    )
    demo.add_argument(
        "--output-dir",
        type=Path,
        default=Path("csm-demo-output"),
        help="where results are written (default: %(default)s)",
    )

    explain_cmd = commands.add_parser(
        "explain", help="show how a call maps to IAM actions, or what an output directory learned"
    )
    explain_cmd.add_argument(
        "service", nargs="?", help="CSM Service (botocore serviceId), e.g. S3 or 'CloudWatch Logs'"
    )
    explain_cmd.add_argument("api", nargs="?", help="CSM Api (operation name), e.g. ListBuckets")
    explain_cmd.add_argument("--output-dir", type=Path, help="explain the calls recorded in this output directory")
    explain_cmd.add_argument("--workload", help="only this workload (ClientId)")

    for name, verb in (("set-ini", "switch on"), ("unset-ini", "switch off")):
        ini = commands.add_parser(
            name, help=f"{verb} csm_enabled in the AWS config file ($AWS_CONFIG_FILE or ~/.aws/config)"
        )
        ini.add_argument("--profile", default="default", help="profile to edit (default: %(default)s)")
        if name == "set-ini":
            ini.add_argument("--csm-host", help="also set csm_host")
            ini.add_argument("--csm-port", type=port_number, help="also set csm_port")
            ini.add_argument("--csm-client-id", help="also set csm_client_id")
    return parser, list(commands.choices.values())


def parse(argv: Sequence[str], environ: Mapping[str, str]) -> argparse.Namespace:
    parser, subparsers = build_parser()
    for sub in subparsers:
        apply_env_defaults(sub, environ)
    return parser.parse_args(argv)


def cmd_listen(settings: Settings, out: TextIO) -> int:
    try:
        listener = UdpListener(settings.host, settings.port, receive_buffer=settings.receive_buffer)
    except OSError as error:
        log.error("cannot listen on %s:%s/udp: %s", settings.host, settings.port, error.strerror or error)
        return 1
    view = None if settings.quiet else LiveView(out, is_tty=out.isatty(), explain=settings.explain)
    publisher = build_publisher(settings)
    archive = build_archive(settings, publisher)
    service = CollectorService(
        settings, load_action_map(), listener=listener, view=view, publisher=publisher, archive=archive
    )
    gc.freeze()  # the mapping data is large and lives for the whole run: keep it out of every collection
    _install_signals(service)
    host, port = service.address
    log.info(
        "listening on %s:%d/udp (receive buffer %d bytes granted), writing to %s every %gs",
        host,
        port,
        listener.granted_buffer,
        settings.output_dir,
        settings.flush_interval,
    )
    return service.run()


def build_publisher(settings: Settings) -> Publisher | None:
    targets = PublishTargets(
        bucket=settings.s3_bucket,
        prefix=normalise_s3_prefix(settings.s3_prefix),
        ssm_prefix=normalise_ssm_prefix(settings.ssm_prefix) if settings.ssm_prefix else None,
    )
    if not targets.enabled:
        return None
    services = [name for name, on in (("s3", targets.bucket), ("ssm", targets.ssm_prefix)) if on]
    clients = aws_clients(settings.region, services)
    return Publisher(targets, s3_client=clients.get("s3"), ssm_client=clients.get("ssm"), ssm_rate=settings.ssm_rate)


def build_archive(settings: Settings, publisher: Publisher | None) -> ArchiveWriter | None:
    if not settings.archive:
        return None
    directory = settings.archive_directory
    collector_id = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.collector_id or socket.gethostname()) or "collector"

    def rolled(path: Path) -> None:
        if publisher is not None:
            publisher.add_archive(path, path.relative_to(directory).as_posix())

    for leftover in pending_files(directory):  # rolled before a restart, not uploaded yet
        rolled(leftover)
    options = ArchiveOptions(directory, collector_id, settings.archive_max_bytes, settings.archive_max_seconds)
    return ArchiveWriter(options, on_rolled=rolled)


def _install_signals(service: CollectorService) -> None:
    signal.set_wakeup_fd(service.wake_fd(), warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, lambda *_: service.request_stop())
    signal.signal(signal.SIGINT, lambda *_: service.request_stop())
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: service.request_flush())


def cmd_replay(settings: Settings, files: list[str], out: TextIO) -> int:
    action_map = load_action_map()
    aggregator = Aggregator(action_map, fails_only=settings.policy.fails_only)
    try:
        count = replay(files, aggregator, sys.stdin.buffer)
    except ReplayError as error:
        log.error("%s", error)
        return 2
    writer = OutputWriter(settings.output_dir, action_map, settings.policy, max_policy_chars=settings.max_policy_chars)
    report = writer.write(aggregator, {"replayed_files": files})
    if not settings.quiet:
        stats = aggregator.stats
        out.write(
            f"replayed {count} datagrams: {stats.api_call_events} calls from {len(aggregator.workloads)} workloads, "
            f"{stats.calls_unmapped} unmapped, {stats.events_rejected} rejected -> {settings.output_dir}/\n"
        )
        for warning in report.warnings:
            out.write(f"warning: {warning}\n")
        if settings.explain:
            explain.explain_output(action_map, settings.output_dir, None, out)
    return 0


def cmd_report(args: argparse.Namespace, settings: Settings, out: TextIO) -> int:
    action_map = load_action_map()
    try:
        if args.athena:
            source = AthenaSource(args.database, args.table, args.workgroup)
            run = athena_runner(aws_clients(args.region, ["athena"])["athena"], source)
            table = athena_table(source)
        else:
            run, table = duckdb_runner(), duckdb_source(args.archive_dirs or [DEFAULT_OUTPUT_DIR / "archive"])
        state = build_state(run, table, action_map, args.since, args.until)
    except ReportError as error:
        log.error("%s", error)
        return 2
    aggregator = Aggregator(action_map, fails_only=settings.policy.fails_only)
    restore(aggregator, state)
    writer = OutputWriter(settings.output_dir, action_map, settings.policy, max_policy_chars=settings.max_policy_chars)
    writer.write(aggregator, {"report_source": "athena" if args.athena else "duckdb"})
    calls = sum(u.calls for w in aggregator.workloads.values() for u in w.usage.values())
    out.write(f"report: {calls} calls from {len(aggregator.workloads)} workloads -> {settings.output_dir}/\n")
    if settings.explain:
        explain.explain_output(action_map, settings.output_dir, None, out)
    return 0


def cmd_explain(args: argparse.Namespace, out: TextIO) -> int:
    action_map = load_action_map()
    if args.output_dir is not None:
        return explain.explain_output(action_map, args.output_dir, args.workload, out)
    if not (args.service and args.api):
        out.write("explain needs SERVICE and API (e.g. explain S3 ListBuckets), or --output-dir DIR\n")
        return 2
    return explain.explain_operation(action_map, args.service, args.api, out)


def cmd_ini(args: argparse.Namespace, environ: Mapping[str, str], out: TextIO) -> int:
    path = awsconfig.config_path(environ)
    if args.command == "set-ini":
        values = {"csm_enabled": "true"}
        optional = {"csm_host": args.csm_host, "csm_port": args.csm_port, "csm_client_id": args.csm_client_id}
        values.update({k: str(v) for k, v in optional.items() if v is not None})
        changed = awsconfig.rewrite(path, "set", args.profile, values)
    else:
        changed = awsconfig.rewrite(path, "unset", args.profile, {"csm_enabled": ""})
    state = "changed" if changed else "already up to date"
    out.write(f"{path} [{awsconfig.section_name(args.profile)}]: {state}\n")
    return 0


COMMANDS: dict[str, Callable[[argparse.Namespace, Mapping[str, str], TextIO], int]] = {
    "listen": lambda a, e, o: cmd_listen(settings_from(a), o),
    "replay": lambda a, e, o: cmd_replay(settings_from(a), a.files, o),
    "report": lambda a, e, o: cmd_report(a, settings_from(a), o),
    "demo": lambda a, e, o: run_demo(settings_from(a), o),
    "explain": lambda a, e, o: cmd_explain(a, o),
    "set-ini": cmd_ini,
    "unset-ini": cmd_ini,
}


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(message)s", stream=sys.stderr)
    try:
        args = parse(sys.argv[1:] if argv is None else argv, environ)
        return COMMANDS[args.command](args, environ, out)
    except ConfigError as error:
        log.error("%s", error)
        return 2
    except (DemoUnavailable, AwsUnavailable) as error:
        log.error("%s", error)
        return 1
    except ValueError as error:  # a setting that passed parsing but cannot be used (e.g. the SSM prefix)
        log.error("%s", error)
        return 2
