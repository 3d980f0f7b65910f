"""Real boto3 clients with CSM switched on call moto in-process; botocore sends real datagrams to a
real collector on 127.0.0.1; the policies hold exactly the expected actions per ClientId."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from collector_runtime.commands.demo import csm_session
from tests.conftest import SECRET_ACCESS_KEY_ID, SECRET_SESSION_TOKEN, assert_no_secrets, read_all_outputs
from tests.helpers import read_json, running_collector, wait_for


def actions(policy: dict[str, Any], sid: str | None = None) -> set[str]:
    return {a for s in policy["Statement"] if sid is None or s["Sid"] == sid for a in s["Action"]}


def session_with_secrets(port: int, client_id: str) -> Any:
    return csm_session(
        port,
        client_id,
        access_key_id=SECRET_ACCESS_KEY_ID,
        secret_access_key="wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY",
        session_token=SECRET_SESSION_TOKEN,
    )


def reader(session: Any) -> None:
    s3 = session.client("s3")
    s3.list_buckets()
    s3.get_object(Bucket="e2e-data", Key="in/a.txt")["Body"].read()
    s3.head_object(Bucket="e2e-data", Key="in/a.txt")
    pages = list(s3.get_paginator("list_objects_v2").paginate(Bucket="e2e-data"))
    assert pages
    session.client("sts").get_caller_identity()
    session.client("ssm").get_parameter(Name="/e2e/config")
    session.client("dynamodb").get_item(TableName="e2e", Key={"id": {"S": "1"}})


def writer(session: Any) -> None:
    s3 = session.client("s3")
    s3.put_object(Bucket="e2e-data", Key="out/b.txt", Body=b"x")
    s3.delete_objects(Bucket="e2e-data", Delete={"Objects": [{"Key": "out/b.txt"}]})
    sqs = session.client("sqs")
    url = sqs.get_queue_url(QueueName="e2e")["QueueUrl"]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "1", "MessageBody": "m"}])
    session.client("dynamodb").put_item(TableName="e2e", Item={"id": {"S": "2"}})
    try:
        session.client("s3").get_object(Bucket="e2e-missing-bucket", Key="k")
    except session.client("s3").exceptions.NoSuchBucket:
        pass


def seed() -> None:
    import boto3

    s3 = boto3.client("s3", region_name="us-east-1")
    s3.create_bucket(Bucket="e2e-data")
    s3.put_object(Bucket="e2e-data", Key="in/a.txt", Body=b"a")
    boto3.client("ssm", region_name="us-east-1").put_parameter(Name="/e2e/config", Value="v", Type="String")
    boto3.client("sqs", region_name="us-east-1").create_queue(QueueName="e2e")
    boto3.client("dynamodb", region_name="us-east-1").create_table(
        TableName="e2e",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )


@pytest.fixture
def aws_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_CSM_ENABLED", "AWS_CONFIG_FILE"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "seed")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "seed")


def test_policies_hold_exactly_what_each_client_called(tmp_path: Path, aws_env: None) -> None:
    with mock_aws(), running_collector(tmp_path, flush_interval=3600) as service:
        seed()
        port = service.sources["csm"].address[1]
        reader(session_with_secrets(port, "reader"))
        writer(session_with_secrets(port, "writer"))
        assert wait_for(lambda: service.sources["csm"].decoder.counters.api_call_events >= 13)

    read = read_json(tmp_path / "policies" / "reader.json")
    assert actions(read) == {
        "s3:ListAllMyBuckets",
        "s3:GetObject",
        "s3:ListBucket",
        "ssm:GetParameter",
        "dynamodb:GetItem",
    }
    assert actions(read, "ObservedCalls") == {"s3:ListAllMyBuckets"}  # the one action without a resource type
    scoped = {s["Resource"][0]: set(s["Action"]) for s in read["Statement"] if s["Sid"] != "ObservedCalls"}
    assert scoped == {  # its key id is of the old format: no account in it, so the account stays "*"
        "arn:aws:s3:::e2e-data": {"s3:ListBucket"},
        "arn:aws:s3:::e2e-data/*": {"s3:GetObject"},
        "arn:aws:ssm:us-east-1:*:parameter/*": {"ssm:GetParameter"},
        "arn:aws:dynamodb:us-east-1:*:table/*": {"dynamodb:GetItem"},
    }

    written = read_json(tmp_path / "policies" / "writer.json")
    assert actions(written) == {
        "s3:PutObject",
        "s3:DeleteObject",
        "s3:GetObject",
        "sqs:GetQueueUrl",
        "sqs:SendMessage",
        "dynamodb:PutItem",
    }
    stats = read_json(tmp_path / "stats.json")
    assert stats["calls_permissionless"] == 1  # GetCallerIdentity
    assert stats["calls_failed"] == 1  # the missing bucket
    assert stats["calls_unmapped"] == 0
    assert_no_secrets(read_all_outputs(tmp_path))
