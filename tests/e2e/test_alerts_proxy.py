"""Alerts from real proxy traffic: boto3 through `csm-collector proxy` (a real process) to moto_server;
NewAction and DeniedCall events (the denied calls' actions from the error messages) in alerts.jsonl and
at a webhook on 127.0.0.1, once each."""

from __future__ import annotations

import json
import signal
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.proxy_run import _json_out, _reset_auth
from tests.e2e.test_alerts_csm import Receiver
from tests.helpers import wait_for
from tests.proxy_harness import CLIENTS, base_env, moto_server, proxy_env, start_proxy

pytestmark = pytest.mark.slow
ACCOUNT, REGION = "123456789012", "eu-west-1"
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
        env = base_env() | {"AWS_ACCESS_KEY_ID": "AKIAEXAMPLE", "AWS_SECRET_ACCESS_KEY": "x"}
        flags = ["--ca-dir", str(ca_dir), "--upstream", moto, "--output-dir", str(out), "--flush-interval", "0.2"]
        process, port = start_proxy(env, *flags, "--alerts-file", "--alerts-webhook", receiver.url)
        try:
            client_env = env | {"AWS_DEFAULT_REGION": REGION}
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
        finally:
            process.send_signal(signal.SIGTERM)
            process.communicate(timeout=60)
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
