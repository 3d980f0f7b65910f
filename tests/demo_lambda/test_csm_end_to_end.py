"""The demo handler with CSM switched on the way the function's environment switches it on: real boto3
against moto, real datagrams to a real collector, which learns exactly the actions the CDK app grants
the demo role (tests/infra/test_demo.py checks the grant), on broader resources than the grant."""

from __future__ import annotations

import os
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from moto import mock_aws

from collector_runtime.core.accounts import example_access_key
from lambda_demo.handler import handler
from tests.conftest import assert_no_secrets, read_all_outputs
from tests.demo_lambda.conftest import ACCOUNT, BUCKET, SESSION_TOKEN, seed_account
from tests.helpers import read_json, running_collector, wait_for

pytestmark = pytest.mark.slow

CLIENT_ID = "csm-collector-demo"
DEMO_CALLS = 5  # GetCallerIdentity, PutObject, GetObject, ListObjectsV2, GetParameter
GRANTED_TO_THE_DEMO = {"s3:PutObject", "s3:GetObject", "s3:ListBucket", "ssm:GetParameter"}


def observed_actions(policy: dict[str, Any]) -> set[str]:
    return {action for statement in policy["Statement"] for action in statement["Action"]}


def learned_policy(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Any]:
    """One invocation of the handler with CSM pointed at a real collector; the policy it learned."""
    with running_collector(tmp_path, flush_interval=3600) as collector, mock_aws():
        seed_account()  # before CSM is on: the seeding calls are not the demo's
        # mock_aws() swapped in its own fake key id: the function's (temporary, account-encoding) one again
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", example_access_key(ACCOUNT))
        monkeypatch.setenv("AWS_CSM_ENABLED", "true")
        monkeypatch.setenv("AWS_CSM_HOST", "127.0.0.1")
        monkeypatch.setenv("AWS_CSM_PORT", str(collector.sources["csm"].address[1]))
        monkeypatch.setenv("AWS_CSM_CLIENT_ID", CLIENT_ID)
        handler({}, SimpleNamespace(aws_request_id="request-1"))
        assert wait_for(lambda: collector.sources["csm"].decoder.counters.api_call_events >= DEMO_CALLS)
    policy: dict[str, Any] = read_json(tmp_path / "policies" / f"{CLIENT_ID}.json")
    return policy


@pytest.mark.usefixtures("demo_environment")
def test_after_one_invocation_the_collector_has_the_demos_policy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert observed_actions(learned_policy(tmp_path, monkeypatch)) == GRANTED_TO_THE_DEMO


@pytest.mark.usefixtures("demo_environment")
def test_the_learned_policy_scopes_s3_to_the_bucket_and_the_parameter_to_the_region(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """What the README says the demo shows: a datagram names the bucket (in its host name), not the object key,
    the listing prefix or the parameter; the parameter is scoped to the call's region and to the account the
    function's temporary access key id encodes, so it is broader than the demo role's grants."""
    policy = learned_policy(tmp_path, monkeypatch)
    resources = {action: statement["Resource"] for statement in policy["Statement"] for action in statement["Action"]}
    assert resources == {
        "s3:ListBucket": [f"arn:aws:s3:::{BUCKET}"],
        "s3:GetObject": [f"arn:aws:s3:::{BUCKET}/*"],
        "s3:PutObject": [f"arn:aws:s3:::{BUCKET}/*"],
        "ssm:GetParameter": [f"arn:aws:ssm:us-east-1:{ACCOUNT}:parameter/*"],
    }
    outputs = read_all_outputs(tmp_path)
    assert_no_secrets(outputs)
    assert SESSION_TOKEN not in outputs and os.environ["AWS_ACCESS_KEY_ID"] not in outputs
