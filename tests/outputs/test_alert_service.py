"""Alerts across a restart: what a restored state already held is no news (no NewAction, no DeniedCall)."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from collector_runtime.commands.listen import build_service
from collector_runtime.core.records import DENIED
from collector_runtime.data import load_action_map
from collector_runtime.settings import AlertOptions, ListenOptions, OutputOptions
from tests.conftest import observed


def options(directory: Path, learning_period: float = 0.0) -> ListenOptions:
    alert_options = AlertOptions(file=True, learning_period=learning_period)
    return ListenOptions(quiet=True, output=OutputOptions(directory), alerts=alert_options)


def alerts(directory: Path) -> list[tuple[str, str, str]]:
    path = directory / "alerts.jsonl"
    lines = path.read_text().splitlines() if path.exists() else []
    return [(e["detail-type"], e["detail"]["workload"], e["detail"]["action"]) for e in map(json.loads, lines)]


def test_a_restored_state_raises_no_alert_and_what_comes_after_does(tmp_path: Path) -> None:
    first = build_service(options(tmp_path), io.StringIO(), load_action_map())
    first.pipeline.add_calls([observed("SQS", "ListQueues"), observed("KMS", "Decrypt", outcome=DENIED)])
    first.flush()
    first._shutdown()
    assert sorted(alerts(tmp_path)) == [
        ("DeniedCall", "app", "kms:Decrypt"),
        ("NewAction", "app", "kms:Decrypt"),
        ("NewAction", "app", "sqs:ListQueues"),
    ]
    (tmp_path / "alerts.jsonl").unlink()

    # a restored workload was learned before the restart: its learning period does not start again
    second = build_service(options(tmp_path, learning_period=3600), io.StringIO(), load_action_map())
    second.pipeline.restore(json.loads((tmp_path / "state.json").read_text()))
    second.resume()
    second.pipeline.add_calls([observed("SQS", "ListQueues"), observed("SNS", "ListTopics")])
    second.flush()
    second._shutdown()
    assert alerts(tmp_path) == [("NewAction", "app", "sns:ListTopics")]


def test_drift_reads_a_lambda_functions_role_in_moto(monkeypatch: pytest.MonkeyPatch) -> None:
    """--role-map WORKLOAD=<function ARN>: the function's execution role's inline and managed policies."""
    import boto3
    from moto import mock_aws

    from collector_runtime.commands.alerts_setup import role_fetcher

    for name, value in (
        ("AWS_ACCESS_KEY_ID", "x"),
        ("AWS_SECRET_ACCESS_KEY", "x"),
        ("AWS_DEFAULT_REGION", "eu-west-1"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam = boto3.client("iam")
        role = iam.create_role(RoleName="fn-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
        inline = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sqs:*", "Resource": "*"}]}
        iam.put_role_policy(RoleName="fn-role", PolicyName="queues", PolicyDocument=json.dumps(inline))
        managed = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}],
        }
        arn = iam.create_policy(PolicyName="reads", PolicyDocument=json.dumps(managed))["Policy"]["Arn"]
        iam.attach_role_policy(RoleName="fn-role", PolicyArn=arn)
        function = boto3.client("lambda").create_function(
            FunctionName="orders",
            Runtime="python3.12",
            Role=role,
            Handler="h.h",
            Code={"ZipFile": b"PK\x05\x06" + b"\0" * 18},
        )["FunctionArn"]
        granted = role_fetcher("eu-west-1")(function)
    assert sorted(policy.source for policy in granted) == ["inline:queues", f"managed:{arn}"]
    assert [policy.document for policy in granted if policy.source == "inline:queues"] == [inline]
