"""The generated policies under an IAM evaluator the project did not write (tests/oracle): every observed call
is allowed, and the same call against another account, region, named resource or passed-to service is not.

The traffic is real: boto3 with CSM on, talking to moto, with a current-format access key id (it encodes the
caller's account), plus the real captures in tests/fixtures/samples and records as the proxy and OTLP
sources emit them (named resources, a passed role, a table in another account)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from moto import mock_aws

from collector_runtime.commands.demo import csm_session, run_workload
from collector_runtime.core.accounts import example_access_key
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.policy import PolicyBuilder, PolicyOptions
from collector_runtime.core.records import OTLP, PROXY, ObservedCall
from collector_runtime.data import load_action_map
from collector_runtime.pipeline import Pipeline
from tests.conftest import SAMPLES, CsmPipeline
from tests.helpers import running_collector, wait_for
from tests.oracle import evaluate
from tests.policy_requests import Case, cases

pytestmark = pytest.mark.slow
ACCOUNT, OTHER = "123456789012", "210987654321"
ROLE = f"arn:aws:iam::{ACCOUNT}:role/service-role/builder"


def more_calls(session: Any) -> None:
    """Beyond the demo: a passed role, KMS, SNS, Secrets Manager, logs, a state machine, a stream."""
    iam = session.client("iam")
    iam.create_role(RoleName="builder", Path="/service-role/", AssumeRolePolicyDocument="{}")
    session.client("lambda").create_function(
        FunctionName="oracle-fn",
        Runtime="python3.12",
        Role=ROLE,
        Handler="index.handler",
        Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
    )
    key = session.client("kms").create_key()["KeyMetadata"]["KeyId"]
    session.client("kms").encrypt(KeyId=key, Plaintext=b"x")
    topic = session.client("sns").create_topic(Name="oracle")["TopicArn"]
    session.client("sns").publish(TopicArn=topic, Message="hi")
    session.client("secretsmanager").create_secret(Name="oracle", SecretString="s3cr3t-value")
    logs = session.client("logs")
    logs.create_log_group(logGroupName="/oracle/app")
    logs.create_log_stream(logGroupName="/oracle/app", logStreamName="s")
    session.client("kinesis").create_stream(StreamName="oracle", ShardCount=1)


def observed_by_csm(tmp_path: Path) -> Aggregator:
    with mock_aws(), running_collector(tmp_path, flush_interval=3600) as service:
        port = service.sources["csm"].address[1]
        session = csm_session(port, "csm-workload", access_key_id=example_access_key(ACCOUNT))
        run_workload(session)
        more_calls(session)
        assert wait_for(lambda: service.sources["csm"].decoder.counters.api_call_events >= 24)
    return service.aggregator


def sources_that_name_resources(aggregator: Aggregator) -> None:
    """Records as the proxy and OTLP sources emit them: resources named, one of them in another account."""
    table = f"arn:aws:dynamodb:eu-west-1:{OTHER}:table/shared-orders"
    calls = [
        ObservedCall("named", PROXY, "DynamoDB", "GetItem", "eu-west-1", ACCOUNT, resources=(table,)),
        ObservedCall("named", PROXY, "Lambda", "CreateFunction", "eu-west-1", ACCOUNT, resources=(ROLE,)),
        ObservedCall(
            "named",
            OTLP,
            "SQS",
            "SendMessage",
            "eu-west-1",
            ACCOUNT,
            resources=(f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs",),
        ),
        ObservedCall(
            "named", PROXY, "S3", "PutObject", "eu-west-1", ACCOUNT, resources=("arn:aws:s3:::artifacts/build/1",)
        ),
    ]
    Pipeline(aggregator).add_calls(calls)


def captured(aggregator: Aggregator) -> None:
    pipeline = CsmPipeline(aggregator)
    for sample in sorted(SAMPLES.glob("*.jsonl")):
        for line in sample.read_bytes().splitlines():
            pipeline.receive_datagram(line)


def test_every_observed_call_is_allowed_and_nothing_beside_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AWS_DEFAULT_REGION", "us-east-1")
    aggregator = observed_by_csm(tmp_path)
    sources_that_name_resources(aggregator)
    captured(aggregator)
    builder = PolicyBuilder(load_action_map(), PolicyOptions())
    checked: dict[str, int] = {}
    for name, workload in aggregator.workloads.items():
        policy = builder.document(builder.grants(workload))
        found = list(cases(aggregator.action_map, workload, ACCOUNT))
        decisions = evaluate(policy, [case.request for case in found])
        wrong = [(c.why, c.request, d.reason) for c, d in zip(found, decisions, strict=True) if _wrong(c, d)]
        assert not wrong, f"{name}: {json.dumps(policy, indent=1)}\n" + "\n".join(map(str, wrong))
        for case in found:
            checked[case.why] = checked.get(case.why, 0) + 1
    assert checked["observed"] > 40
    assert {"other account", "other region", "other name", "passed to another service"} <= set(checked)


def _wrong(case: Case, decision: Any) -> bool:
    return decision.identity_allowed != (case.why == "observed")


def test_no_unconditioned_pass_role_and_every_resource_typed_grant_is_narrower_than_any(tmp_path: Path) -> None:
    aggregator = Aggregator(load_action_map())
    sources_that_name_resources(aggregator)
    captured(aggregator)
    builder = PolicyBuilder(aggregator.action_map, PolicyOptions())
    for workload in aggregator.workloads.values():
        for statement in builder.document(builder.grants(workload))["Statement"]:
            if "iam:PassRole" in statement["Action"]:
                assert statement["Condition"]["StringEquals"]["iam:PassedToService"]
            typed = [a for a in statement["Action"] if aggregator.action_map.resource_types(a)]
            assert not typed or statement["Resource"] != "*", statement


def test_a_role_is_passed_only_to_its_service(monkeypatch: pytest.MonkeyPatch) -> None:
    aggregator = Aggregator(load_action_map())
    aggregator.add(ObservedCall("deployer", PROXY, "Lambda", "CreateFunction", "eu-west-1", ACCOUNT, resources=(ROLE,)))
    builder = PolicyBuilder(aggregator.action_map, PolicyOptions())
    policy = builder.document(builder.grants(aggregator.workloads["deployer"]))
    from tests.oracle import Request

    to = {
        "lambda": {"iam:PassedToService": "lambda.amazonaws.com"},
        "ec2": {"iam:PassedToService": "ec2.amazonaws.com"},
    }
    other_role = f"arn:aws:iam::{ACCOUNT}:role/admin"
    allowed = evaluate(
        policy,
        [
            Request("iam:PassRole", ROLE, ACCOUNT, context=to["lambda"]),
            Request("iam:PassRole", ROLE, ACCOUNT, context=to["ec2"]),
            Request("iam:PassRole", other_role, ACCOUNT, context=to["lambda"]),
            Request("iam:PassRole", ROLE, ACCOUNT),
        ],
    )
    assert [d.identity_allowed for d in allowed] == [True, False, False, False]
