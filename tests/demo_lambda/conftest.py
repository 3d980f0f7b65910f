"""The demo Lambda's environment as the CDK app sets it (minus CSM), and an account seeded for it."""

from __future__ import annotations

import boto3
import pytest

from collector_runtime.core.accounts import example_access_key

ACCOUNT = "123456789012"  # moto's account, and the one the function's temporary key id encodes
SESSION_TOKEN = "IQoJb3JpZ2luX2VjEDemoLambdaSessionToken" + "x" * 300
BUCKET = "csm-results-bucket"
OBJECT_KEY = "demo/csm-collector-demo.json"
ADDRESS_PARAMETER = "/csm-collector/collector/address"


@pytest.fixture
def demo_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_CSM_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    # A Lambda function's credentials: a temporary (ASIA) key id, which encodes the account, and a token.
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", example_access_key(ACCOUNT))
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_SESSION_TOKEN", SESSION_TOKEN)
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("RESULTS_BUCKET", BUCKET)
    monkeypatch.setenv("DEMO_OBJECT_KEY", OBJECT_KEY)
    monkeypatch.setenv("COLLECTOR_ADDRESS_PARAMETER", ADDRESS_PARAMETER)


def seed_account() -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=ADDRESS_PARAMETER, Value="10.42.2.10", Type="String"
    )
