"""`report`: the policies from the raw-event archive (DuckDB locally, or Athena over S3)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...contract import ATHENA_DATABASE, ATHENA_TABLE, ATHENA_WORKGROUP
from ..errors import ConfigError
from ..flags import CommandSpec, flag
from ..groups.aws import region_flag
from ..groups.output import OutputOptions, output_flags, output_options
from ..values import day, day_range


@dataclass(frozen=True)
class ReportOptions:
    archive_dirs: tuple[Path, ...] = (Path("csm-output/archive"),)
    athena: bool = False
    database: str = ATHENA_DATABASE
    table: str = ATHENA_TABLE
    workgroup: str = ATHENA_WORKGROUP
    region: str | None = None
    since: str | None = None
    until: str | None = None
    output: OutputOptions = field(default_factory=lambda: OutputOptions(output_dir=Path("csm-report")))
    html: Path | None = None  # also write the HTML report here
    from_output: Path | None = None  # a collector's output directory instead of the archive


DEFAULTS = ReportOptions()


def report_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ReportOptions:
    day_range(args.since, args.until)
    if args.from_output is not None and args.html is None:
        raise ConfigError("report --from-output DIR needs --html FILE")
    return ReportOptions(
        archive_dirs=tuple(args.archive_dirs or DEFAULTS.archive_dirs),
        athena=args.athena,
        database=args.database,
        table=args.table,
        workgroup=args.workgroup,
        region=args.region or None,
        since=args.since,
        until=args.until,
        output=output_options(args),
        html=args.html,
        from_output=args.from_output,
    )


SPEC = CommandSpec(
    name="report",
    help="build the policies from the raw-event archive: DuckDB locally, or Athena over S3",
    flags=(
        flag(
            "--archive-dir",
            dest="archive_dirs",
            type=Path,
            action="append",
            help=f"an archive directory (repeatable, e.g. one per collector; default: {DEFAULTS.archive_dirs[0]})",
        ),
        flag("--athena", action="store_true", help="query the S3 archive with Athena instead"),
        flag(
            "--from-output",
            type=Path,
            metavar="DIR",
            help="with --html: a collector's output directory (state.json, alerts.jsonl, stats.json) instead",
        ),
        flag("--html", type=Path, metavar="FILE", help="also write a self-contained HTML report here"),
        flag("--database", default=DEFAULTS.database, help="Athena/Glue database (default: %(default)s)"),
        flag("--table", default=DEFAULTS.table, help="Athena/Glue table (default: %(default)s)"),
        flag("--workgroup", default=DEFAULTS.workgroup, help="Athena workgroup (default: %(default)s)"),
        region_flag("AWS region for Athena"),
        flag("--since", type=day, help="first UTC day to include, YYYY-MM-DD"),
        flag("--until", type=day, help="last UTC day to include, YYYY-MM-DD"),
        output_flags(DEFAULTS.output),
    ),
    build=report_options,
    runner="report.run",
)
