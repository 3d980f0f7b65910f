"""End to end with real Node.js instrumentation: the AWS SDK for JavaScript v3 with
@opentelemetry/instrumentation-aws-sdk and the OTLP/HTTP protobuf exporter (chunked bodies), calling moto_server,
exporting to a real `listen --otlp-port` process (tests/e2e/otlp_node/calls.js; versions pinned in package.json).
Also the Node.js demo function's handler (lambda_demo_node), instrumented the same way."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.state import restore
from collector_runtime.data import load_action_map
from tests.demo_lambda.test_csm_end_to_end import GRANTED_TO_THE_DEMO
from tests.helpers import STARTED, policy_actions, read_json, start_otlp_listen
from tests.oracle import evaluate
from tests.policy_requests import cases
from tests.proxy_harness import moto_server

pytestmark = pytest.mark.slow
CALLS = Path(__file__).parent / "otlp_node" / "calls.js"
ACCOUNT, REGION = "123456789012", "eu-west-1"  # moto's account


@pytest.fixture(scope="module")
def moto_url() -> Iterator[str]:
    with moto_server(ACCOUNT) as port:
        yield f"http://127.0.0.1:{port}"


def _post(url: str, body: bytes = b"") -> None:
    request = urllib.request.Request(url, data=body, headers={"Content-Type": "text/plain"}, method="POST")
    urllib.request.urlopen(request, timeout=10).read()


def run_node(mode: str, moto_url: str, otlp_port: int, service_name: str, **env: str) -> str:
    environment = {
        **os.environ,
        "MOTO_URL": moto_url,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_REGION": REGION,
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": f"http://127.0.0.1:{otlp_port}/v1/traces",
        "OTEL_SERVICE_NAME": service_name,
        **env,
    }
    done = subprocess.run(["node", str(CALLS), mode], env=environment, capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout


def collected(tmp_path: Path, mode: str, moto_url: str, service_name: str, **env: str) -> tuple[Path, str]:
    process, _, otlp_port = start_otlp_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    output = run_node(mode, moto_url, otlp_port, service_name, **env)
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    STARTED.remove(process)
    return tmp_path, output


def statements(policy: dict[str, Any]) -> dict[str, list[str]]:
    return {action: sorted(s["Resource"]) for s in policy["Statement"] for action in s["Action"]}


def test_javascript_v3_spans_become_an_exact_policy_naming_its_resources(tmp_path: Path, moto_url: str) -> None:
    out, _ = collected(tmp_path, "calls", moto_url, "node-otlp")
    stats = read_json(out / "stats.json")["otlp"]
    assert stats["aws_spans"] == 18 and stats["requests_refused"] == 0
    bucket, table = "arn:aws:s3:::node-otlp-bucket", f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/node-orders"
    queue, topic = f"arn:aws:sqs:{REGION}:{ACCOUNT}:node-jobs", f"arn:aws:sns:{REGION}:{ACCOUNT}:node-alerts"
    stream, secret = (
        f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/node-clicks",
        f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:node-db-??????",
    )
    assert statements(read_json(out / "policies" / "node-otlp.json")) == {
        "dynamodb:CreateTable": [table],
        "dynamodb:GetItem": [table],
        "dynamodb:PutItem": [table],
        "kinesis:CreateStream": [stream],
        "kinesis:PutRecord": [stream],
        "lambda:InvokeFunction": [f"arn:aws:lambda:{REGION}:{ACCOUNT}:function:node-missing-fn"],
        "s3:CreateBucket": [bucket],
        "s3:ListBucket": [bucket],
        "s3:GetObject": [f"{bucket}/*"],
        "s3:PutObject": [f"{bucket}/*"],
        "secretsmanager:CreateSecret": [secret],
        "secretsmanager:GetSecretValue": [secret],
        "sns:CreateTopic": [topic],
        "sns:Publish": [topic],
        "sqs:CreateQueue": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:*"],
        "sqs:ReceiveMessage": [queue],
        "sqs:SendMessage": [queue],
    }
    assert "never kept" not in "".join(p.read_text() for p in out.rglob("*.json"))
    assert_the_evaluator_agrees(out, "node-otlp")


def assert_the_evaluator_agrees(out: Path, workload: str) -> None:
    """The independent evaluator allows every observed call and nothing moved to another name, region or account."""
    action_map = load_action_map()
    aggregator = Aggregator(action_map)
    restore(aggregator, read_json(out / "state.json"))
    found = list(cases(action_map, aggregator.workloads[workload], ACCOUNT))
    decisions = evaluate(read_json(out / "policies" / f"{workload}.json"), [case.request for case in found])
    wrong = [
        (c.why, c.request) for c, d in zip(found, decisions, strict=True) if d.identity_allowed != (c.why == "observed")
    ]
    assert not wrong
    assert {"observed", "other name", "other region", "other account"} <= {case.why for case in found}


def test_a_denied_javascript_call_feeds_the_denied_call_view(tmp_path: Path, moto_url: str) -> None:
    iam = boto3.client(
        "iam", endpoint_url=moto_url, region_name=REGION, aws_access_key_id="testing", aws_secret_access_key="testing"
    )
    iam.create_user(UserName="node-limited")
    allow = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
    }
    iam.put_user_policy(UserName="node-limited", PolicyName="list", PolicyDocument=json.dumps(allow))
    key = iam.create_access_key(UserName="node-limited")["AccessKey"]
    _post(f"{moto_url}/moto-api/reset-auth", b"0")  # IAM enforcement on, for this test only
    try:
        out, _ = collected(
            tmp_path,
            "denied",
            moto_url,
            "node-denied",
            LIMITED_KEY_ID=key["AccessKeyId"],
            LIMITED_SECRET=key["SecretAccessKey"],
        )
    finally:
        _post(f"{moto_url}/moto-api/reset-auth", b"inf")
    assert read_json(out / "stats.json")["calls_denied"] == 1
    state = read_json(out / "state.json")["workloads"]["node-denied"]
    assert state["denied_actions"] == [{"action": "sns:ListTopics", "service": "SNS", "api": "ListTopics"}]
    assert policy_actions(read_json(out / "policies" / "node-denied.json")) == ["s3:ListAllMyBuckets", "sns:ListTopics"]


def test_the_node_demo_function_learns_the_actions_its_role_grants(tmp_path: Path, moto_url: str) -> None:
    """lambda_demo_node's handler, instrumented as the ADOT layer instruments it, makes the Python demo's calls:
    the collector learns the actions the CDK app grants both demo roles, with the bucket named."""
    aws = {
        "endpoint_url": moto_url,
        "region_name": REGION,
        "aws_access_key_id": "testing",
        "aws_secret_access_key": "testing",
    }
    boto3.client("s3", **aws).create_bucket(
        Bucket="node-demo-results", CreateBucketConfiguration={"LocationConstraint": REGION}
    )
    boto3.client("ssm", **aws).put_parameter(Name="/csm-collector/collector/address", Value="10.42.0.10", Type="String")
    env = {
        "AWS_ENDPOINT_URL": moto_url,
        "RESULTS_BUCKET": "node-demo-results",
        "DEMO_OBJECT_KEY": "demo/csm-collector-demo-node.json",
        "COLLECTOR_ADDRESS_PARAMETER": "/csm-collector/collector/address",
    }
    out, output = collected(tmp_path, "demo", moto_url, "csm-collector-demo-node", **env)
    assert json.loads(output)["collectorAddress"] == "10.42.0.10"
    policy = read_json(out / "policies" / "csm-collector-demo-node.json")
    assert set(policy_actions(policy)) == GRANTED_TO_THE_DEMO
    assert statements(policy)["s3:ListBucket"] == ["arn:aws:s3:::node-demo-results"]
