"""Commands that work on files: replay, report, explain, set-ini/unset-ini."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Mapping
from typing import TextIO

from .. import awsconfig, explain
from ..aws import aws_clients
from ..core.aggregate import Aggregator
from ..core.state import restore
from ..mapping_data import load_action_map
from ..outputs import OutputWriter
from ..replay import ReplayError, replay
from ..report import AthenaSource, ReportError, athena_runner, athena_table, build_state, duckdb_runner, duckdb_source
from ..settings import DEFAULT_OUTPUT_DIR, Settings

log = logging.getLogger("csm_collector")


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
