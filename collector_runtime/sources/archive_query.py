"""The archive source (`csm-collector report`): observed calls read back from the raw-event archive.

Locally with DuckDB over archive files (the embedded default: one or more archive directories, e.g.
copied from several collectors), or in AWS with Athena over the S3 archive that every collector
uploads to (`--athena`). Both run the query of `core.archive_sql`; each row is one distinct observed
call with how many times it happened, which the usual aggregator and renderer turn into the usual
files.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..contract import ARCHIVE_COLUMNS, LEGACY_ARCHIVE_COLUMNS, PARTITION_COLUMN
from ..core.archive_sql import DUCKDB_TYPES, ROW_FIELDS, calls_query
from ..core.arns import is_region_name
from ..core.records import ARCHIVE, DEFAULT_WORKLOAD, OUTCOMES, ObservedCall, actions_named_in
from ..errors import BadInput, Failure
from ..install_hint import install_hint

Rows = list[tuple[Any, ...]]
Runner = Callable[[str], Rows]


class ReportError(BadInput):
    """The archive cannot be read (exit 2); the message says why."""


class QueryFailed(Failure):
    """An Athena query failed or timed out, or the query engine is missing (exit 1)."""


@dataclass(frozen=True)
class AthenaSource:
    database: str
    table: str
    workgroup: str


def duckdb_source(directories: Sequence[Path]) -> str:
    """A DuckDB table expression over every archive file under the given archive directories.

    DuckDB matches JSON keys case-sensitively, so lines from before the record format (CSM events:
    `Service`, `Api`, ...) are read by a second scan and added by name; Athena's SerDe needs no such step."""
    missing = [str(d) for d in directories if not d.is_dir()]
    if missing:
        raise ReportError(f"no archive directory at {', '.join(missing)}")
    if not any(any(d.glob(f"{PARTITION_COLUMN}=*/*.jsonl.gz")) for d in directories):
        raise ReportError(f"no archive files (dt=*/*.jsonl.gz) under {', '.join(map(str, directories))}")
    files = ", ".join(f"'{d / f'{PARTITION_COLUMN}=*' / '*.jsonl.gz'}'" for d in directories)
    records = _read_json(files, ARCHIVE_COLUMNS)
    legacy = _read_json(files, (("Service", "string"), ("Region", "string"), *LEGACY_ARCHIVE_COLUMNS))
    return (
        f'(SELECT * FROM {records} WHERE "operation" IS NOT NULL '
        f'UNION ALL BY NAME SELECT * FROM {legacy} WHERE "Api" IS NOT NULL)'
    )


def _read_json(files: str, columns: Sequence[tuple[str, str]]) -> str:
    types = ", ".join(f"'{name}': '{DUCKDB_TYPES[kind]}'" for name, kind in columns)
    return (
        f"read_json([{files}], format='newline_delimited', columns={{{types}}}, "
        f"hive_partitioning=true, hive_types={{'{PARTITION_COLUMN}': VARCHAR}})"
    )


def duckdb_runner() -> Runner:
    try:
        import duckdb
    except ImportError as error:
        raise QueryFailed(f"the local report needs DuckDB: {install_hint('report')}") from error
    connection = duckdb.connect()

    def run(sql: str) -> Rows:
        try:
            return [tuple(row) for row in connection.execute(sql).fetchall()]
        except duckdb.Error as error:  # e.g. an archive file that is not gzip JSON lines
            raise ReportError(f"cannot read the archive: {' '.join(str(error).split())}") from error

    return run


def athena_runner(
    client: Any,
    source: AthenaSource,
    *,
    poll: float = 1.0,
    timeout: float = 600.0,
    sleep: Callable[[float], None] = time.sleep,
) -> Runner:
    """Runs a query in the workgroup and returns its rows (strings, as Athena returns them)."""

    def run(sql: str) -> Rows:
        started = client.start_query_execution(
            QueryString=sql, QueryExecutionContext={"Database": source.database}, WorkGroup=source.workgroup
        )
        query_id = started["QueryExecutionId"]
        waited = 0.0
        while True:
            status = client.get_query_execution(QueryExecutionId=query_id)["QueryExecution"]["Status"]
            if status["State"] == "SUCCEEDED":
                break
            if status["State"] in ("FAILED", "CANCELLED"):
                raise QueryFailed(f"Athena query {query_id} {status['State']}: {status.get('StateChangeReason', '')}")
            if waited >= timeout:
                raise QueryFailed(f"Athena query {query_id} still running after {timeout:g}s")
            sleep(poll)
            waited += poll
        return _athena_rows(client, query_id)

    return run


def _athena_rows(client: Any, query_id: str) -> Rows:
    rows: Rows = []
    for page in client.get_paginator("get_query_results").paginate(QueryExecutionId=query_id):
        for row in page["ResultSet"]["Rows"]:
            rows.append(tuple(cell.get("VarCharValue") for cell in row["Data"]))
    return rows[1:]  # the first row holds the column names


def athena_table(source: AthenaSource) -> str:
    return f'"{source.database}"."{source.table}"'


Grouped = tuple[ObservedCall, int, int | None]  # (the call, first seen at its time_ms; how many; last seen)


class ArchiveCalls:
    """Every distinct observed call in the archive, with its count and last time, as it is iterated. A call whose
    region no region could have (`*`, which a collector before the region check archived, or an edited file) is
    left out and counted in `left_out`: rebuilt, it would widen the policy's ARNs."""

    def __init__(self, run: Runner, source: str, since: str | None, until: str | None) -> None:
        self._query = calls_query(source, since, until)
        self._run = run
        self.left_out = 0

    def __iter__(self) -> Iterator[Grouped]:
        for row in self._run(self._query):
            grouped = _grouped(dict(zip(ROW_FIELDS, row, strict=True)))
            region = grouped[0].region
            if region is None or is_region_name(region):
                yield grouped
            else:
                self.left_out += grouped[1]


def _grouped(row: dict[str, Any]) -> Grouped:
    outcome = row["outcome"] if row["outcome"] in OUTCOMES else "failed"
    denied = _strings(row["denied_actions"]) or (actions_named_in(row["message"]) if outcome == "denied" else ())
    call = ObservedCall(
        workload=row["workload"] or DEFAULT_WORKLOAD,
        source=ARCHIVE,
        service=row["service"],
        operation=row["operation"],
        region=row["region"] or None,
        account=row["account"] or None,
        outcome=outcome,
        error_code=row["error_code"] or None,
        denied_actions=denied,
        resources=_strings(row["resources"]),
        request_members=frozenset(_strings(row["request_members"])),
        time_ms=_int(row["first_ms"]),
    )
    return call, int(row["calls"]), _int(row["last_ms"])


def _strings(value: Any) -> tuple[str, ...]:
    """A list column: DuckDB returns a list; Athena returns its text form '[a, b]'."""
    if value is None or value == "":
        return ()
    if isinstance(value, str):
        inner = value.strip()[1:-1] if value.strip().startswith("[") else value
        return tuple(part.strip() for part in inner.split(",") if part.strip())
    return tuple(str(item) for item in value)


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
