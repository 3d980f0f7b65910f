"""`csm-collector report`: the policies rebuilt from the raw-event archive (DuckDB locally, or Athena)."""

from __future__ import annotations

from typing import TextIO

from ..aws import aws_clients, calling
from ..core.aggregate import Aggregator
from ..data import load_action_map
from ..settings import ReportOptions
from ..sources.archive_query import (
    ArchiveCalls,
    AthenaSource,
    Runner,
    athena_runner,
    athena_table,
    duckdb_runner,
    duckdb_source,
)
from . import explain
from .report_html import restore_output_dir, write_html
from .results import write_results
from .startup import writable_directory


def run(options: ReportOptions, out: TextIO) -> int:
    """An archive that cannot be read is bad input (exit 2); a failed Athena query or AWS call is a
    failure (exit 1), one line naming the workgroup and table."""
    writable_directory(options.output.output_dir)
    action_map = load_action_map()
    aggregator = Aggregator(action_map, fails_only=options.output.policy.fails_only)
    if options.from_output is not None and options.html is not None:
        restore_output_dir(aggregator, options.from_output)
        write_html(aggregator, options, f"the output directory {options.from_output}")
        out.write(f"report: {len(aggregator.workloads)} workloads -> {options.html}\n")
        return 0
    what = f"Athena (workgroup {options.workgroup!r}, table {options.database}.{options.table})"
    with calling(what):
        run_query, table = _engine(options)
        calls = ArchiveCalls(run_query, table, options.since, options.until)
        for call, count, last_ms in calls:
            aggregator.add(call, count, last_ms)
    write_results(aggregator, aggregator.stats.as_dict(), {"report_source": _engine_name(options)}, options.output)
    out.write(
        f"report: {aggregator.stats.calls} calls from {len(aggregator.workloads)} workloads "
        f"-> {options.output.output_dir}/\n"
    )
    if calls.left_out:
        out.write(f"report: {calls.left_out} archived calls left out: their region is no region's name (such as *)\n")
    if options.html is not None:
        write_html(aggregator, options, _engine_name(options))
        out.write(f"report: HTML -> {options.html}\n")
    if options.output.explain:
        explain.explain_output(action_map, options.output.output_dir, None, out)
    return 0


def _engine(options: ReportOptions) -> tuple[Runner, str]:
    if options.athena:
        source = AthenaSource(options.database, options.table, options.workgroup)
        client = aws_clients(options.region, ["athena"], purpose="report --athena")["athena"]
        return athena_runner(client, source), athena_table(source)
    return duckdb_runner(), duckdb_source(options.archive_dirs)


def _engine_name(options: ReportOptions) -> str:
    return "athena" if options.athena else "duckdb"
