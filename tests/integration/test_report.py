"""`report` rebuilds the live collector's answer from the archive: DuckDB on real archive files,
Athena through botocore's Stubber (the exact calls it makes), both from one SQL definition."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from collector_runtime.archive import ArchiveOptions, ArchiveWriter
from collector_runtime.cli import main
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.archive_sql import report_queries
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.state import restore, snapshot
from collector_runtime.report import (
    AthenaSource,
    athena_runner,
    athena_table,
    build_state,
    duckdb_runner,
    duckdb_source,
)
from tests.conftest import SAMPLES, assert_no_secrets, attempt, call, datagram

DENIED_MESSAGE = "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: kms:Decrypt on resource: k"


def traffic() -> list[bytes]:
    lines = [line for p in sorted(SAMPLES.glob("*.jsonl")) for line in p.read_bytes().splitlines()]
    return [
        *lines,
        datagram(
            attempt("S3", "PutObject", "ci", Fqdn="artifacts.s3.eu-west-1.amazonaws.com", Region="eu-west-1"),
            call("S3", "PutObject", "ci", Region="eu-west-1"),
        ),
        datagram(
            call(
                "S3",
                "GetObject",
                "ci",
                FinalHttpStatusCode=403,
                FinalAwsException="AccessDenied",
                FinalAwsExceptionMessage=DENIED_MESSAGE,
            )
        ),
        datagram(call("Lambda", "CreateFunction", "")),
    ]


def archive(directory: Path, datagrams: list[bytes], action_map: ActionMap, day: float) -> Aggregator:
    """Feed datagrams to an aggregator and archive what it accepted, as the collector does."""
    aggregator = Aggregator(action_map)
    writer = ArchiveWriter(ArchiveOptions(directory, directory.name), clock=lambda: day)
    for data in datagrams:
        writer.append(aggregator.ingest(data, keep_records=True))
    writer.close()
    return aggregator


def policies(aggregator: Aggregator, out: Path) -> dict[str, str]:
    from collector_runtime.core.policy import PolicyOptions
    from collector_runtime.outputs import OutputWriter

    OutputWriter(out, aggregator.action_map, PolicyOptions(), max_policy_chars=6144).write(aggregator, {})
    return {p.name: p.read_text() for p in sorted((out / "policies").iterdir())}


def test_duckdb_report_equals_the_live_answer(tmp_path: Path, action_map: ActionMap) -> None:
    live = archive(tmp_path / "collector-a", traffic(), action_map, 1795303566.0)
    state = build_state(duckdb_runner(), duckdb_source([tmp_path / "collector-a"]), action_map, None, None)
    rebuilt = Aggregator(action_map)
    restore(rebuilt, state)
    assert policies(rebuilt, tmp_path / "report") == policies(live, tmp_path / "live")
    assert json.loads(json.dumps(snapshot(rebuilt)))["workloads"].keys() == snapshot(live)["workloads"].keys()


def test_several_collectors_add_up_to_one_answer(tmp_path: Path, action_map: ActionMap) -> None:
    everything = traffic()
    archive(tmp_path / "a", everything[::2], action_map, 1795303566.0)
    archive(tmp_path / "b", everything[1::2], action_map, 1795303566.0 + 86_400)
    combined = Aggregator(action_map)
    for data in everything:
        combined.ingest(data)
    out = io.StringIO()
    code = main(
        [
            "report",
            "--archive-dir",
            str(tmp_path / "a"),
            "--archive-dir",
            str(tmp_path / "b"),
            "--output-dir",
            str(tmp_path / "report"),
        ],
        {},
        out,
    )
    assert code == 0 and "workloads" in out.getvalue()
    expected = policies(combined, tmp_path / "expected")
    assert {p.name: p.read_text() for p in sorted((tmp_path / "report" / "policies").iterdir())} == expected
    assert_no_secrets("".join(expected.values()))


def test_days_select_partitions(tmp_path: Path, action_map: ActionMap) -> None:
    archive(tmp_path / "arch", [datagram(call("SQS", "SendMessage", "w"))], action_map, 1795303566.0)  # 2026-11-21
    archive(tmp_path / "arch", [datagram(call("SQS", "DeleteMessage", "w"))], action_map, 1795303566.0 + 86_400)
    source = duckdb_source([tmp_path / "arch"])
    only_second = build_state(duckdb_runner(), source, action_map, "2026-11-22", None)
    assert [row[1] for row in only_second["workloads"]["w"]["calls"]] == ["DeleteMessage"]
    both = build_state(duckdb_runner(), source, action_map, "2026-11-21", "2026-11-22")
    assert len(both["workloads"]["w"]["calls"]) == 2


def test_missing_archive_is_a_clear_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    assert (
        main(
            ["report", "--archive-dir", str(tmp_path / "none"), "--output-dir", str(tmp_path / "o")], {}, io.StringIO()
        )
        == 2
    )
    assert "no archive directory" in caplog.text
    (tmp_path / "empty").mkdir()
    assert (
        main(
            ["report", "--archive-dir", str(tmp_path / "empty"), "--output-dir", str(tmp_path / "o")], {}, io.StringIO()
        )
        == 2
    )
    assert "no archive files" in caplog.text


def athena_page(header: list[str], rows: list[list[Any]]) -> dict[str, Any]:
    def cells(values: list[Any]) -> dict[str, Any]:
        return {"Data": [{} if v is None else {"VarCharValue": str(v)} for v in values]}

    return {"ResultSet": {"Rows": [cells(header), *map(cells, rows)], "ResultSetMetadata": {"ColumnInfo": []}}}


def test_athena_report_runs_the_shared_queries(
    tmp_path: Path, action_map: ActionMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("athena", region_name="us-east-1")
    source = AthenaSource("csm_collector", "events", "csm-collector")
    queries = report_queries(athena_table(source), "2026-11-01", None)
    results = {
        queries.calls: athena_page(
            ["client_id", "service", "api", "calls", "failed", "denied", "first_seen_ms", "last_seen_ms"],
            [
                ["ci", "S3", "PutObject", 3, 0, 0, 1795303566718, 1795303566900],
                ["ci", "S3", "GetObject", 1, 1, 1, 1795303566718, 1795303566718],
                ["", "STS", "GetCallerIdentity", 2, 0, 0, None, None],
            ],
        ),
        queries.buckets: athena_page(
            ["client_id", "api", "fqdn", "region"], [["ci", "PutObject", "artifacts.s3.amazonaws.com", "us-east-1"]]
        ),
        queries.denials: athena_page(
            ["client_id", "service", "api", "message"], [["ci", "S3", "GetObject", DENIED_MESSAGE]]
        ),
    }
    with Stubber(client) as stub:
        for index, sql in enumerate([queries.calls, queries.buckets, queries.denials]):
            query_id = f"q-{index}"
            stub.add_response(
                "start_query_execution",
                {"QueryExecutionId": query_id},
                {
                    "QueryString": sql,
                    "QueryExecutionContext": {"Database": "csm_collector"},
                    "WorkGroup": "csm-collector",
                },
            )
            stub.add_response(
                "get_query_execution",
                {"QueryExecution": {"Status": {"State": "RUNNING"}}},
                {"QueryExecutionId": query_id},
            )
            stub.add_response(
                "get_query_execution",
                {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}},
                {"QueryExecutionId": query_id},
            )
            stub.add_response("get_query_results", results[sql], {"QueryExecutionId": query_id})
        run = athena_runner(client, source, sleep=lambda _: None)
        state = build_state(run, athena_table(source), action_map, "2026-11-01", None)
        stub.assert_no_pending_responses()
    aggregator = Aggregator(action_map)
    restore(aggregator, state)
    found = policies(aggregator, tmp_path)
    ci = json.loads(found["ci.json"])
    assert {s["Sid"]: s["Action"] for s in ci["Statement"]} == {
        "ObservedCalls": ["kms:Decrypt", "s3:GetObject"],
        "ObservedCallsOnBuckets1": ["s3:PutObject"],
    }
    assert json.loads(found["default.json"])["Statement"] == []


def test_a_failed_athena_query_is_reported(action_map: ActionMap, monkeypatch: pytest.MonkeyPatch) -> None:
    from collector_runtime.report import ReportError

    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("athena", region_name="us-east-1")
    with Stubber(client) as stub:
        stub.add_response(
            "start_query_execution",
            {"QueryExecutionId": "q"},
            {"QueryString": ANY, "QueryExecutionContext": ANY, "WorkGroup": ANY},
        )
        stub.add_response(
            "get_query_execution",
            {"QueryExecution": {"Status": {"State": "FAILED", "StateChangeReason": "TABLE_NOT_FOUND"}}},
            {"QueryExecutionId": "q"},
        )
        run = athena_runner(client, AthenaSource("d", "t", "w"), sleep=lambda _: None)
        with pytest.raises(ReportError, match="TABLE_NOT_FOUND"):
            run("SELECT 1")


def test_the_athena_saved_queries_run_on_real_archive_files(tmp_path: Path, action_map: ActionMap) -> None:
    from collector_runtime.core.archive_sql import saved_queries

    archive(tmp_path / "arch", traffic(), action_map, 1795303566.0)
    run = duckdb_runner()
    results = {name: run(sql) for name, (_, sql) in saved_queries(duckdb_source([tmp_path / "arch"])).items()}
    assert ("ci", "S3", "PutObject", 1) in results["csm-top-api-calls-per-workload"]
    [denied] = results["csm-denied-calls"]
    assert denied[:4] == ("ci", "S3", "GetObject", "AccessDenied") and denied[5:] == (1, "2026-11-21", "2026-11-21")
    distinct = {(w, s, a) for w, s, a, *_ in results["csm-distinct-service-api-per-workload"]}
    assert ("", "Lambda", "CreateFunction") in distinct and ("ci", "S3", "PutObject") in distinct
