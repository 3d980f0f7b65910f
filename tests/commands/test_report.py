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

from collector_runtime.commands.cli import main
from collector_runtime.commands.results import write_results
from collector_runtime.contract import saved_queries
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.archive_sql import ROW_FIELDS, calls_query
from collector_runtime.core.mapping import ActionMap
from collector_runtime.outputs.archive import ArchiveOptions, ArchiveWriter
from collector_runtime.settings import OutputOptions
from collector_runtime.sources.archive_query import (
    ArchiveCalls,
    AthenaSource,
    Runner,
    athena_runner,
    athena_table,
    duckdb_runner,
    duckdb_source,
)
from tests.conftest import SAMPLES, CsmPipeline, assert_no_secrets, attempt, call, datagram, observed

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
    """Feed datagrams through the pipeline and archive its records, as the collector does."""
    aggregator = Aggregator(action_map)
    writer = ArchiveWriter(ArchiveOptions(directory, directory.name), clock=lambda: day)
    pipeline = CsmPipeline(aggregator, archive=writer.append)
    for data in datagrams:
        pipeline.receive_datagram(data)
    writer.close()
    return aggregator


def rebuild(
    run: Runner, source: str, action_map: ActionMap, since: str | None = None, until: str | None = None
) -> Aggregator:
    aggregator = Aggregator(action_map)
    for record, count, last_ms in ArchiveCalls(run, source, since, until):
        aggregator.add(record, count, last_ms)
    return aggregator


def policies(aggregator: Aggregator, out: Path) -> dict[str, str]:
    write_results(aggregator, {}, {}, OutputOptions(output_dir=out))
    return {p.name: p.read_text() for p in sorted((out / "policies").iterdir())}


def test_duckdb_report_equals_the_live_answer(tmp_path: Path, action_map: ActionMap) -> None:
    live = archive(tmp_path / "collector-a", traffic(), action_map, 1795303566.0)
    rebuilt = rebuild(duckdb_runner(), duckdb_source([tmp_path / "collector-a"]), action_map)
    assert policies(rebuilt, tmp_path / "report") == policies(live, tmp_path / "live")
    assert rebuilt.workloads.keys() == live.workloads.keys()
    for name, workload in live.workloads.items():
        for key, usage in workload.usage.items():
            again = rebuilt.workloads[name].usage[key]
            assert (again.calls, again.failed, again.denied, set(again.scopes)) == (
                usage.calls,
                usage.failed,
                usage.denied,
                set(usage.scopes),
            )


def test_several_collectors_add_up_to_one_answer(tmp_path: Path, action_map: ActionMap) -> None:
    everything = traffic()
    archive(tmp_path / "a", everything[::2], action_map, 1795303566.0)
    archive(tmp_path / "b", everything[1::2], action_map, 1795303566.0 + 86_400)
    combined = Aggregator(action_map)
    for data in everything:
        CsmPipeline(combined).receive_datagram(data)
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
    only_second = rebuild(duckdb_runner(), source, action_map, "2026-11-22", None)
    assert list(only_second.workloads["w"].usage) == [("SQS", "DeleteMessage")]
    both = rebuild(duckdb_runner(), source, action_map, "2026-11-21", "2026-11-22")
    assert len(both.workloads["w"].usage) == 2


def test_archives_written_before_the_record_format_are_read(tmp_path: Path, action_map: ActionMap) -> None:
    """Old archive lines were CSM events (redacted): their calls count, their attempts are skipped."""
    import gzip

    legacy = [
        attempt("S3", "GetObject", "old"),
        call("S3", "GetObject", "old"),
        call(
            "SQS",
            "ListQueues",
            "old",
            FinalHttpStatusCode=403,
            FinalAwsException="AccessDenied",
            FinalAwsExceptionMessage="is not authorized to perform: sqs:ListQueues on resource",
        ),
        call("STS", "GetCallerIdentity", ""),
    ]
    for event in legacy:
        event.pop("AccessKey", None)
        event.pop("SessionToken", None)
    part = tmp_path / "arch" / "dt=2026-10-01"
    part.mkdir(parents=True)
    (part / "old-collector.jsonl.gz").write_bytes(gzip.compress(b"\n".join(json.dumps(e).encode() for e in legacy)))
    rebuilt = rebuild(duckdb_runner(), duckdb_source([tmp_path / "arch"]), action_map)
    usage = rebuilt.workloads["old"].usage
    assert (usage[("S3", "GetObject")].calls, usage[("SQS", "ListQueues")].denied) == (1, 1)
    assert rebuilt.workloads["default"].usage[("STS", "GetCallerIdentity")].calls == 1
    assert rebuilt.stats.calls == 3


def test_archived_calls_in_a_region_no_region_could_have_are_left_out(tmp_path: Path, action_map: ActionMap) -> None:
    """An archive a collector before the region check wrote (or a file someone edited) may hold region `*`:
    rebuilt, it would grant `arn:aws:ssm:*:...`. Such rows are left out and counted; the others are read."""
    directory = tmp_path / "arch"
    writer = ArchiveWriter(ArchiveOptions(directory, "old"), clock=lambda: 1_790_000_000.0)
    writer.append([observed("SSM", "GetParameter", region=region) for region in ("*", "eu-west-1", "eu-west-1?")])
    writer.close()
    calls = ArchiveCalls(duckdb_runner(), duckdb_source([directory]), None, None)
    assert [(call.region, count) for call, count, _ in calls] == [("eu-west-1", 1)]
    assert calls.left_out == 2
    out = io.StringIO()
    assert main(["report", "--archive-dir", str(directory), "--output-dir", str(tmp_path / "o")], {}, out) == 0
    assert "2 archived calls left out: their region is no region's name (such as *)" in out.getvalue()
    assert "ssm:*:" not in (tmp_path / "o" / "policy.json").read_text()


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


def test_athena_report_runs_the_shared_query(
    tmp_path: Path, action_map: ActionMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    client = boto3.client("athena", region_name="us-east-1")
    source = AthenaSource("csm_collector", "events", "csm-collector")
    sql = calls_query(athena_table(source), "2026-11-01", None)
    header = list(ROW_FIELDS)
    rows = [
        [
            "ci",
            "csm",
            "S3",
            "PutObject",
            "us-east-1",
            "123456789012",
            "ok",
            None,
            "[]",
            "[arn:aws:s3:::artifacts]",
            "[]",
            None,
            3,
            1795303566718,
            1795303566900,
        ],
        [
            "ci",
            "csm",
            "S3",
            "GetObject",
            "us-east-1",
            None,
            "denied",
            "AccessDenied",
            "[kms:Decrypt]",
            "[]",
            "[]",
            None,
            1,
            1795303566718,
            1795303566718,
        ],
        ["", None, "STS", "GetCallerIdentity", None, None, "ok", None, None, None, None, None, 2, None, None],
    ]
    with Stubber(client) as stub:
        stub.add_response(
            "start_query_execution",
            {"QueryExecutionId": "q-1"},
            {"QueryString": sql, "QueryExecutionContext": {"Database": "csm_collector"}, "WorkGroup": "csm-collector"},
        )
        stub.add_response(
            "get_query_execution", {"QueryExecution": {"Status": {"State": "RUNNING"}}}, {"QueryExecutionId": "q-1"}
        )
        stub.add_response(
            "get_query_execution", {"QueryExecution": {"Status": {"State": "SUCCEEDED"}}}, {"QueryExecutionId": "q-1"}
        )
        stub.add_response("get_query_results", athena_page(header, rows), {"QueryExecutionId": "q-1"})
        run = athena_runner(client, source, sleep=lambda _: None)
        aggregator = rebuild(run, athena_table(source), action_map, "2026-11-01", None)
        stub.assert_no_pending_responses()
    found = policies(aggregator, tmp_path)  # GetObject (no account) is in the one account ci showed
    ci = json.loads(found["ci.json"])
    assert {tuple(s["Action"]): s["Resource"] for s in ci["Statement"]} == {
        ("kms:Decrypt",): ["arn:aws:kms:us-east-1:123456789012:key/*"],
        ("s3:GetObject",): ["arn:aws:s3:::*/*", "arn:aws:s3:us-east-1:123456789012:accesspoint/*/object/*"],
        ("s3:PutObject",): ["arn:aws:s3:::artifacts/*"],
    }
    assert json.loads(found["default.json"])["Statement"] == []
    assert aggregator.stats.calls == 6


def test_a_failed_athena_query_is_reported(action_map: ActionMap, monkeypatch: pytest.MonkeyPatch) -> None:
    from collector_runtime.sources.archive_query import QueryFailed

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
        with pytest.raises(QueryFailed, match="TABLE_NOT_FOUND"):
            run("SELECT 1")


def test_the_athena_saved_queries_run_on_real_archive_files(tmp_path: Path, action_map: ActionMap) -> None:
    archive(tmp_path / "arch", traffic(), action_map, 1795303566.0)
    run = duckdb_runner()
    results = {name: run(sql) for name, (_, sql) in saved_queries(duckdb_source([tmp_path / "arch"])).items()}
    assert ("ci", "S3", "PutObject", 1) in results["csm-top-api-calls-per-workload"]
    [denied] = results["csm-denied-calls"]
    assert denied == ("ci", "S3", "GetObject", "AccessDenied", ["kms:Decrypt"], 1, "2026-11-21", "2026-11-21")
    distinct = {(w, s, a) for w, s, a, *_ in results["csm-distinct-service-api-per-workload"]}
    assert ("default", "Lambda", "CreateFunction") in distinct and ("ci", "S3", "PutObject") in distinct
