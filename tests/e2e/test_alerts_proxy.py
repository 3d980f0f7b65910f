"""Alerts from real proxy traffic: boto3 through `csm-collector proxy` (a real process) to moto_server;
NewAction and DeniedCall events (the denied calls' actions from the error messages) in alerts.jsonl and
at a webhook on 127.0.0.1, once each. Its archive is uploaded beside the CSM collector's (--archive-s3-prefix),
where the Athena table reads (tests/infra/test_alerting.py checks the deployed proxy is told that prefix)."""

from __future__ import annotations

import gzip
import json
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.proxy_run import _admin_key, _aws, _json_out, _reset_auth
from tests.e2e.test_alerts_csm import Receiver
from tests.helpers import wait_for
from tests.proxy_harness import CLIENTS, base_env, moto_server, proxy_env, running_proxy

pytestmark = pytest.mark.slow
ACCOUNT, REGION, BUCKET = "123456789012", "eu-west-1", "results"
CLIENT = """
import boto3, json
session = boto3.session.Session(region_name="eu-west-1")
for _ in range(3):
    session.client("sqs").list_queues()
    session.client("dynamodb").list_tables()
print(json.dumps({"ok": True}))
"""


def kinds(events: list[dict[str, Any]]) -> list[tuple[str, str, str]]:
    return sorted((e["detail-type"], e["detail"]["workload"], e["detail"]["action"]) for e in events)


@pytest.mark.timeout(240)
def test_proxy_traffic_raises_new_action_and_denied_call_alerts(tmp_path: Path) -> None:
    receiver, out, ca_dir = Receiver(), tmp_path / "out", tmp_path / "ca"
    with moto_server(ACCOUNT) as moto_port:
        moto = f"http://127.0.0.1:{moto_port}"
        admin = _admin_key(moto)  # the proxy publishes with it, also once moto enforces IAM
        _aws(moto, "s3", *admin).create_bucket(Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION})
        env = base_env() | {"AWS_ACCESS_KEY_ID": admin[0], "AWS_SECRET_ACCESS_KEY": admin[1], "AWS_ENDPOINT_URL": moto}
        flags = ["--ca-dir", str(ca_dir), "--upstream", moto, "--output-dir", str(out), "--flush-interval", "0.2"]
        flags += ["--s3-bucket", BUCKET, "--s3-prefix", "collector/proxy/", "--region", REGION, "--archive"]
        flags += ["--archive-s3-prefix", "collector/archive/", "--collector-id", "proxy"]
        with running_proxy(env, *flags, "--alerts-file", "--alerts-webhook", receiver.url) as proxy:
            port = proxy.port
            client_env = base_env() | {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"}
            client_env |= {"AWS_DEFAULT_REGION": REGION}
            workload_env = proxy_env(client_env, "--port", str(port), "--ca-dir", str(ca_dir), "--workload", "w-py")
            _json_out([sys.executable, "-c", CLIENT], workload_env)
            import boto3

            iam = boto3.client(
                "iam", endpoint_url=moto, region_name=REGION, aws_access_key_id="a", aws_secret_access_key="b"
            )
            iam.create_user(UserName="nobody")
            key = iam.create_access_key(UserName="nobody")["AccessKey"]
            _reset_auth(moto)
            denied_env = proxy_env(client_env, "--port", str(port), "--ca-dir", str(ca_dir), "--workload", "w-denied")
            denied_env |= {"DENIED_KEY_ID": key["AccessKeyId"], "DENIED_SECRET": key["SecretAccessKey"]}
            for _ in range(2):
                _json_out([sys.executable, str(CLIENTS / "denied_client.py"), "t"], denied_env)
            assert wait_for(lambda: len(receiver.bodies) >= 6, timeout=60)
            assert not wait_for(lambda: len(receiver.bodies) > 6, timeout=1.0)
        s3 = _aws(moto, "s3", *admin)
        archived = [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"] if ".jsonl.gz" in o["Key"]]
        assert archived and all(k.startswith("collector/archive/dt=") and "/proxy-" in k for k in archived)
        records = [
            json.loads(line)
            for k in archived
            for line in gzip.decompress(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read()).splitlines()
        ]
        assert {r["source"] for r in records} == {"proxy"} and len(records) == 10  # 6 calls and 4 denied
    expected = [
        ("DeniedCall", "w-denied", "dynamodb:DescribeTable"),
        ("DeniedCall", "w-denied", "sqs:ListQueues"),
        ("NewAction", "w-denied", "dynamodb:DescribeTable"),
        ("NewAction", "w-denied", "sqs:ListQueues"),
        ("NewAction", "w-py", "dynamodb:ListTables"),
        ("NewAction", "w-py", "sqs:ListQueues"),
    ]
    assert kinds(receiver.bodies) == expected
    from_file = [json.loads(line) for line in (out / "alerts.jsonl").read_text().splitlines()]
    assert kinds(from_file) == expected
    denied = [e["detail"] for e in from_file if e["detail-type"] == "DeniedCall"]
    assert {d["operation"] for d in denied} == {"SQS.ListQueues", "DynamoDB.DescribeTable"}
    text = (out / "alerts.jsonl").read_text()
    assert key["SecretAccessKey"] not in text and key["AccessKeyId"] not in text
    stats = json.loads((out / "stats.json").read_text())["alerts"]
    assert stats["events"] == {"NewAction": 4, "DeniedCall": 2, "Drift": 0}
    assert stats["sinks"]["file"]["sent"] == 6
