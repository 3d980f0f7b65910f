"""The archive's schema and the SQL that turns archived events back into per-workload call usage.

One definition for both engines: DuckDB over local archive files (`report`), Athena over the S3
archive (`report --athena`, and the Glue table the CDK stack creates from ARCHIVE_COLUMNS).
Identifiers are double-quoted lower case, which both engines read the same way.
"""

from __future__ import annotations

from dataclasses import dataclass

from .events import DENIED_CODES

# (name as written in the archive's JSON, Glue/Athena type). DuckDB types are derived below.
ARCHIVE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("Version", "int"),
    ("ClientId", "string"),
    ("Type", "string"),
    ("Service", "string"),
    ("Api", "string"),
    ("Timestamp", "bigint"),
    ("Region", "string"),
    ("UserAgent", "string"),
    ("Fqdn", "string"),
    ("AttemptLatency", "int"),
    ("AttemptCount", "int"),
    ("Latency", "int"),
    ("MaxRetriesExceeded", "int"),
    ("HttpStatusCode", "int"),
    ("FinalHttpStatusCode", "int"),
    ("AwsException", "string"),
    ("AwsExceptionMessage", "string"),
    ("FinalAwsException", "string"),
    ("FinalAwsExceptionMessage", "string"),
    ("SdkException", "string"),
    ("SdkExceptionMessage", "string"),
    ("FinalSdkException", "string"),
    ("FinalSdkExceptionMessage", "string"),
    ("XAmznRequestId", "string"),
    ("XAmzRequestId", "string"),
    ("XAmzId2", "string"),
    ("AccessKeyAccount", "string"),
)
PARTITION_COLUMN = "dt"  # Hive-style partition: dt=YYYY-MM-DD, the UTC day the collector received the event
DUCKDB_TYPES = {"int": "INTEGER", "bigint": "BIGINT", "string": "VARCHAR"}

_DENIED = ", ".join(f"'{code}'" for code in sorted(DENIED_CODES))
FAILED = (
    '("finalawsexception" IS NOT NULL OR "finalsdkexception" IS NOT NULL OR coalesce("finalhttpstatuscode", 0) >= 400)'
)
DENIED = f'(coalesce("finalhttpstatuscode", 0) = 403 OR "finalawsexception" IN ({_DENIED}))'


@dataclass(frozen=True)
class ReportQueries:
    calls: str
    buckets: str
    denials: str


def report_queries(source: str, since: str | None = None, until: str | None = None) -> ReportQueries:
    """The three queries of a report over `source` (a table name or a DuckDB table function).

    `since`/`until` are inclusive UTC days (YYYY-MM-DD), applied to the partition column so engines
    read only those partitions.
    """
    window = "".join(f" AND \"{PARTITION_COLUMN}\" {op} '{day}'" for op, day in ((">=", since), ("<=", until)) if day)
    client = "coalesce(\"clientid\", '') AS client_id"
    calls = (
        f'SELECT {client}, "service", "api", count(*) AS calls, '
        f"sum(CASE WHEN {FAILED} THEN 1 ELSE 0 END) AS failed, "
        f"sum(CASE WHEN {DENIED} THEN 1 ELSE 0 END) AS denied, "
        f'min("timestamp") AS first_seen_ms, max("timestamp") AS last_seen_ms '
        f"FROM {source} WHERE \"type\" = 'ApiCall'{window} GROUP BY 1, 2, 3 ORDER BY 1, 2, 3"
    )
    buckets = (
        f'SELECT DISTINCT {client}, "api", "fqdn", "region" FROM {source} '
        f'WHERE "type" = \'ApiCallAttempt\' AND "service" = \'S3\' AND "fqdn" IS NOT NULL{window} ORDER BY 1, 2, 3, 4'
    )
    denials = (
        f'SELECT DISTINCT {client}, "service", "api", "finalawsexceptionmessage" AS message FROM {source} '
        f'WHERE "type" = \'ApiCall\' AND {DENIED} AND "finalawsexceptionmessage" IS NOT NULL{window} '
        "ORDER BY 1, 2, 3, 4"
    )
    return ReportQueries(calls, buckets, denials)


def saved_queries(source: str) -> dict[str, tuple[str, str]]:
    """Athena saved queries over the archive: name -> (description, SQL). Engine-neutral SQL (a test
    runs each of them with DuckDB over real archive files)."""
    workload = "coalesce(\"clientid\", '') AS workload"
    return {
        "csm-top-api-calls-per-workload": (
            "The most frequent API calls of each workload (ApiCall events)",
            f'SELECT {workload}, "service", "api", count(*) AS calls FROM {source} '
            "WHERE \"type\" = 'ApiCall' GROUP BY 1, 2, 3 ORDER BY calls DESC, 1, 2, 3 LIMIT 500",
        ),
        "csm-denied-calls": (
            "Calls that were denied: what each workload is missing",
            f'SELECT {workload}, "service", "api", "finalawsexception" AS exception, '
            f'"finalawsexceptionmessage" AS message, count(*) AS calls, min("{PARTITION_COLUMN}") AS first_day, '
            f'max("{PARTITION_COLUMN}") AS last_day FROM {source} WHERE "type" = \'ApiCall\' AND {DENIED} '
            "GROUP BY 1, 2, 3, 4, 5 ORDER BY calls DESC",
        ),
        "csm-distinct-service-api-per-workload": (
            "Every Service/Api each ClientId called: the raw material of its policy",
            f'SELECT {workload}, "service", "api", count(*) AS calls, min("{PARTITION_COLUMN}") AS first_day, '
            f'max("{PARTITION_COLUMN}") AS last_day FROM {source} WHERE "type" = \'ApiCall\' '
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        ),
    }
