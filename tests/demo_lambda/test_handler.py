"""lambda_demo/handler.py against moto: importable, and its calls do what the demo promises."""

from __future__ import annotations

from types import SimpleNamespace

import boto3
import pytest
from moto import mock_aws

from lambda_demo.handler import DemoSettings, handler
from tests.demo_lambda.conftest import BUCKET, OBJECT_KEY, seed_account


def test_settings_come_from_the_function_environment() -> None:
    settings = DemoSettings.from_environ(
        {"RESULTS_BUCKET": "b", "DEMO_OBJECT_KEY": "demo/x.json", "COLLECTOR_ADDRESS_PARAMETER": "/p/collector/address"}
    )
    assert (settings.bucket, settings.object_key, settings.prefix) == ("b", "demo/x.json", "demo/")
    assert settings.address_parameter == "/p/collector/address"


@pytest.mark.usefixtures("demo_environment")
def test_one_invocation_writes_reads_lists_and_finds_the_collector() -> None:
    with mock_aws():
        seed_account()
        result = handler({}, SimpleNamespace(aws_request_id="request-1"))
        stored = boto3.client("s3", region_name="us-east-1").get_object(Bucket=BUCKET, Key=OBJECT_KEY)["Body"].read()
    assert result == {
        "account": "123456789012",
        "object": f"s3://{BUCKET}/{OBJECT_KEY}",
        "readBack": {"lastRequest": "request-1"},
        "objectsUnderPrefix": 1,
        "collectorAddress": "10.42.2.10",
    }
    assert stored == b'{"lastRequest": "request-1"}'


@pytest.mark.usefixtures("demo_environment")
def test_a_second_invocation_overwrites_the_same_object() -> None:
    with mock_aws():
        seed_account()
        handler({}, SimpleNamespace(aws_request_id="request-1"))
        result = handler({}, None)
    assert result["objectsUnderPrefix"] == 1
    assert result["readBack"] == {"lastRequest": "local"}
