"""Command line: parses, builds settings, delegates. Exit status 0 ok, 1 failure, 2 bad usage."""

from __future__ import annotations

import argparse
import gc
import logging
import os
import signal
import sys
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TextIO

from . import __version__, awsconfig, explain
from .collector import CollectorService
from .core.aggregate import Aggregator
from .demo import DemoUnavailable, run_demo
from .listener import UdpListener
from .live import LiveView
from .mapping_data import load_action_map
from .outputs import OutputWriter
from .replay import ReplayError, replay
from .settings import (
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_HOST,
    DEFAULT_OUTPUT_DIR,
    DEFAULT_PORT,
    DEFAULT_RECEIVE_BUFFER,
    ConfigError,
    Settings,
    apply_env_defaults,
    port_number,
    positive_float,
    positive_int,
    settings_from,
)

log = logging.getLogger("csm_collector")


def _add_policy_options(parser: argparse.ArgumentParser) -> None:
    group = parser.add_argument_group("policy")
    group.add_argument(
        "--output-dir", type=Path, default=DEFAULT_OUTPUT_DIR, help="where results are written (default: %(default)s)"
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

    replay_cmd = commands.add_parser(
        "replay", help="run captured datagrams (JSON lines, .gz ok, - for stdin) through the pipeline"
    )
    replay_cmd.add_argument("files", nargs="+", metavar="FILE")
    replay_cmd.add_argument("--quiet", action="store_true", help="no summary")
    _add_policy_options(replay_cmd)

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
    service = CollectorService(settings, load_action_map(), listener=listener, view=view)
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
    except DemoUnavailable as error:
        log.error("%s", error)
        return 1
