"""The SQL that turns the raw-event archive back into observed calls, for DuckDB and Athena alike.

One query, grouped by every field of a record: each row is one distinct observed call and how many
times (and when first and last) it happened. Archives from before the record format (one CSM event
per line) are read too: their ApiCall lines become records without account or resources.
"""

from __future__ import annotations

from ..contract import (
    ARCHIVE_DENIED,
    ARCHIVE_IS_CALL,
    ARCHIVE_OPERATION,
    ARCHIVE_TIME,
    ARCHIVE_WORKLOAD,
    PARTITION_COLUMN,
)

DUCKDB_TYPES = {"int": "INTEGER", "bigint": "BIGINT", "string": "VARCHAR", "array<string>": "VARCHAR[]"}
_LEGACY_OUTCOME = (
    f"CASE WHEN {ARCHIVE_DENIED} THEN 'denied' WHEN \"finalawsexception\" IS NOT NULL "
    "OR \"finalsdkexception\" IS NOT NULL OR coalesce(\"finalhttpstatuscode\", 0) >= 400 THEN 'failed' ELSE 'ok' END"
)
# The columns of each result row, in order.
ROW_FIELDS = (
    "workload",
    "source",
    "service",
    "operation",
    "region",
    "account",
    "outcome",
    "error_code",
    "denied_actions",
    "resources",
    "request_members",
    "message",
    "calls",
    "first_ms",
    "last_ms",
)


def calls_query(source: str, since: str | None = None, until: str | None = None) -> str:
    """Distinct observed calls in `source` (a table name or a DuckDB table function) with their counts.

    `since`/`until` are inclusive UTC days (YYYY-MM-DD), applied to the partition column so engines
    read only those partitions. `message` is only set for legacy lines (their denial messages)."""
    window = "".join(f" AND \"{PARTITION_COLUMN}\" {op} '{day}'" for op, day in ((">=", since), ("<=", until)) if day)
    selected = (
        f"{ARCHIVE_WORKLOAD}",
        '"source"',
        '"service"',
        ARCHIVE_OPERATION,
        '"region"',
        '"account"',
        f'coalesce("outcome", {_LEGACY_OUTCOME})',
        'coalesce("error_code", "finalawsexception")',
        '"denied_actions"',
        '"resources"',
        '"request_members"',
        'CASE WHEN "outcome" IS NULL THEN "finalawsexceptionmessage" END',
    )
    columns = ", ".join(f"{expression} AS {name}" for expression, name in zip(selected, ROW_FIELDS, strict=False))
    groups = ", ".join(str(index) for index in range(1, len(selected) + 1))
    return (
        f"SELECT {columns}, count(*) AS calls, min({ARCHIVE_TIME}) AS first_ms, max({ARCHIVE_TIME}) AS last_ms "
        f"FROM {source} WHERE {ARCHIVE_IS_CALL}{window} GROUP BY {groups} ORDER BY {groups}"
    )
