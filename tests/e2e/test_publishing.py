"""The collector with publishing and the archive on, against moto: policies in S3 and SSM, the
archive uploaded in Hive partitions, no secret anywhere."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from collector_runtime.commands.listen import build_archive, build_publisher
from collector_runtime.settings import ListenOptions, OutputOptions
from tests.conftest import assert_no_secrets, attempt, call, datagram, read_all_outputs
from tests.helpers import running_collector, send, wait_for

BUCKET = "csm-results"


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("AWS_CSM_ENABLED", "true"),
    ):
        monkeypatch.setenv(name, value)  # CSM on in the collector's own environment: must not loop back
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3, boto3.client("ssm", region_name="us-east-1")


def test_listen_publishes_policies_and_the_archive(tmp_path: Path, aws: Any) -> None:
    s3, ssm = aws
    settings = ListenOptions(
        output=OutputOptions(output_dir=tmp_path),
        s3_bucket=BUCKET,
        s3_prefix="collector/",
        ssm_prefix="/csm",
        archive=True,
        collector_id="test-collector",
        region="us-east-1",
    )
    publisher = build_publisher(settings)
    archive = build_archive(settings, publisher)
    traffic = [
        datagram(
            attempt("S3", "GetObject", "reader", Fqdn="data-bucket.s3.amazonaws.com"), call("S3", "GetObject", "reader")
        ),
        datagram(attempt("SQS", "SendMessage", "writer"), call("SQS", "SendMessage", "writer")),
    ]
    with running_collector(tmp_path, publisher=publisher, archive=archive, flush_interval=3600) as service:
        send(service.sources["csm"].address[1], *traffic)
        assert wait_for(lambda: service.sources["csm"].decoder.counters.events_parsed == 4)

    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    assert {
        "collector/policies/reader.json",
        "collector/policies/writer.json",
        "collector/policy.json",
        "collector/stats.json",
        "collector/state.json",
    } <= keys
    archived = [k for k in keys if k.startswith("collector/archive/dt=")]
    assert len(archived) == 1 and archived[0].endswith(".jsonl.gz") and "test-collector-" in archived[0]
    lines = gzip.decompress(s3.get_object(Bucket=BUCKET, Key=archived[0])["Body"].read()).decode()
    assert len(lines.splitlines()) == 2  # one record per call: attempts are folded into their calls
    reader = json.loads(ssm.get_parameter(Name="/csm/policies/reader")["Parameter"]["Value"])
    assert reader["Statement"][0]["Resource"] == ["arn:aws:s3:::data-bucket/*"]
    assert not list((tmp_path / "archive").rglob("*.jsonl.gz"))  # uploaded, then removed locally
    everything = lines + "".join(
        s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode(errors="replace")
        for k in keys
        if not k.endswith(".gz")
    )
    assert_no_secrets(everything + read_all_outputs(tmp_path))
    stats = json.loads((tmp_path / "stats.json").read_text())
    assert stats["archive"]["events_archived"] == 2


def test_without_a_bucket_the_archive_stays_local(tmp_path: Path) -> None:
    settings = ListenOptions(output=OutputOptions(output_dir=tmp_path), archive=True, collector_id="local")
    archive = build_archive(settings, None)
    with running_collector(tmp_path, archive=archive, flush_interval=3600) as service:
        send(service.sources["csm"].address[1], datagram(call("KMS", "Decrypt")))
        assert wait_for(lambda: service.sources["csm"].decoder.counters.events_parsed == 1)
    files = list((tmp_path / "archive").rglob("*.jsonl.gz"))
    assert len(files) == 1 and files[0].parent.name.startswith("dt=")
