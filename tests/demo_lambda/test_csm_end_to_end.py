"""The demo handler with CSM switched on the way the function's environment switches it on: real boto3
against moto, real datagrams to a real collector, which learns exactly the actions the CDK app grants
the demo role (tests/infra/test_demo.py checks the grant)."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from moto import mock_aws

from lambda_demo.handler import handler
from tests.demo_lambda.conftest import seed_account
from tests.helpers import read_json, running_collector, wait_for

pytestmark = pytest.mark.slow

CLIENT_ID = "csm-collector-demo"
DEMO_CALLS = 5  # GetCallerIdentity, PutObject, GetObject, ListObjectsV2, GetParameter
GRANTED_TO_THE_DEMO = {"s3:PutObject", "s3:GetObject", "s3:ListBucket", "ssm:GetParameter"}


def observed_actions(policy: dict[str, Any]) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


@pytest.mark.usefixtures("demo_environment")
def test_after_one_invocation_the_collector_has_the_demos_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with running_collector(tmp_path, flush_interval=3600) as collector, mock_aws():
        seed_account()  # before CSM is on: the seeding calls are not the demo's
        monkeypatch.setenv("AWS_CSM_ENABLED", "true")
        monkeypatch.setenv("AWS_CSM_HOST", "127.0.0.1")
        monkeypatch.setenv("AWS_CSM_PORT", str(collector.address[1]))
        monkeypatch.setenv("AWS_CSM_CLIENT_ID", CLIENT_ID)
        handler({}, SimpleNamespace(aws_request_id="request-1"))
        assert wait_for(lambda: collector.pipeline.csm.counters.api_call_events >= DEMO_CALLS)
    policy = read_json(tmp_path / "policies" / f"{CLIENT_ID}.json")
    assert observed_actions(policy) == GRANTED_TO_THE_DEMO
