"""The demo Lambda's environment as the CDK app sets it (minus CSM), and an account seeded for it."""

from __future__ import annotations

import boto3
import pytest

BUCKET = "csm-results-bucket"
OBJECT_KEY = "demo/csm-collector-demo.json"
ADDRESS_PARAMETER = "/csm-collector/collector/address"


@pytest.fixture
def demo_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_CSM_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    monkeypatch.setenv("RESULTS_BUCKET", BUCKET)
    monkeypatch.setenv("DEMO_OBJECT_KEY", OBJECT_KEY)
    monkeypatch.setenv("COLLECTOR_ADDRESS_PARAMETER", ADDRESS_PARAMETER)


def seed_account() -> None:
    boto3.client("s3", region_name="us-east-1").create_bucket(Bucket=BUCKET)
    boto3.client("ssm", region_name="us-east-1").put_parameter(
        Name=ADDRESS_PARAMETER, Value="10.42.2.10", Type="String"
    )
