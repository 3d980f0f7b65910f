"""`csm-collector report`: the same per-workload policies, built from the raw-event archive.

Locally with DuckDB over archive files (the embedded default: one or more archive directories, e.g.
copied from several collectors), or in AWS with Athena over the S3 archive that every collector
uploads to (`--athena`). Both run the queries of `core.archive_sql`; their rows become a state
snapshot that the usual aggregator and output writer turn into the usual files.
"""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .core.aggregate import ANY_BUCKET, DEFAULT_WORKLOAD
from .core.archive_sql import ARCHIVE_COLUMNS, DUCKDB_TYPES, PARTITION_COLUMN, report_queries
from .core.events import denial_actions
from .core.mapping import ActionMap
from .core.s3 import bucket_arn, bucket_from_fqdn
from .core.state import CALL_FIELDS, STATE_FORMAT

Rows = list[tuple[Any, ...]]
Runner = Callable[[str], Rows]


class ReportError(RuntimeError):
    """The report could not be built; the message says why."""


@dataclass(frozen=True)
class AthenaSource:
    database: str
    table: str
    workgroup: str


def duckdb_source(directories: Sequence[Path]) -> str:
    """A DuckDB table function over every archive file under the given archive directories."""
    missing = [str(d) for d in directories if not d.is_dir()]
    if missing:
        raise ReportError(f"no archive directory at {', '.join(missing)}")
    files = [str(d / f"{PARTITION_COLUMN}=*" / "*.jsonl.gz") for d in directories]
    if not any(any(d.glob(f"{PARTITION_COLUMN}=*/*.jsonl.gz")) for d in directories):
        raise ReportError(f"no archive files (dt=*/*.jsonl.gz) under {', '.join(map(str, directories))}")
    columns = ", ".join(f"'{name}': '{DUCKDB_TYPES[kind]}'" for name, kind in ARCHIVE_COLUMNS)
    paths = ", ".join(f"'{f}'" for f in files)
    return (
        f"read_json([{paths}], format='newline_delimited', columns={{{columns}}}, "
        f"hive_partitioning=true, hive_types={{'{PARTITION_COLUMN}': VARCHAR}})"
    )


def duckdb_runner() -> Runner:
    try:
        import duckdb
    except ImportError as error:
        raise ReportError("the local report needs DuckDB: pip install 'csm-collector[report]'") from error
    connection = duckdb.connect()

    def run(sql: str) -> Rows:
        return [tuple(row) for row in connection.execute(sql).fetchall()]

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
                raise ReportError(f"Athena query {query_id} {status['State']}: {status.get('StateChangeReason', '')}")
            if waited >= timeout:
                raise ReportError(f"Athena query {query_id} still running after {timeout:g}s")
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


def build_state(
    run: Runner, source: str, action_map: ActionMap, since: str | None, until: str | None
) -> dict[str, Any]:
    """Run the report queries and assemble a state snapshot (see core.state) from their rows."""
    queries = report_queries(source, since, until)
    workloads: dict[str, dict[str, Any]] = defaultdict(lambda: {"calls": [], "s3_buckets": {}, "denied_actions": []})
    for client_id, service, api, calls, failed, denied, first, last in run(queries.calls):
        row = (service, api, int(calls), int(failed), int(denied), _int(first), _int(last))
        workloads[client_id or DEFAULT_WORKLOAD]["calls"].append(row)
    for client_id, api, fqdn, region in run(queries.buckets):
        bucket = bucket_from_fqdn(fqdn)
        arn = bucket_arn(bucket, region) if bucket else ANY_BUCKET
        buckets = workloads[client_id or DEFAULT_WORKLOAD]["s3_buckets"].setdefault(api, [])
        if arn not in buckets:
            buckets.append(arn)
    for client_id, service, api, message in run(queries.denials):
        for named in denial_actions({"FinalAwsExceptionMessage": message}):
            action = action_map.canonical_action(named)
            if action:
                workloads[client_id or DEFAULT_WORKLOAD]["denied_actions"].append(
                    {"action": action, "service": service, "api": api}
                )
    return {"format": STATE_FORMAT, "call_fields": CALL_FIELDS, "workloads": dict(workloads)}


def _int(value: Any) -> int | None:
    return None if value in (None, "") else int(value)
