"""End to end with real Python instrumentation: boto3 calls moto in-process with CSM on and the botocore
OpenTelemetry instrumentation exporting OTLP/HTTP, both to one real `listen --otlp-port` process. The OTLP
workload gets an exact policy naming its resources, the same actions as the CSM workload of the same calls,
which the independent evaluator allows (and nothing beside them); a denied call feeds the denied-call view."""

from __future__ import annotations

import json
import signal
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws
from moto.core import set_initial_no_auth_action_count

from collector_runtime.commands.demo import csm_session
from collector_runtime.core.accounts import example_access_key
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.state import restore
from collector_runtime.data import load_action_map
from tests.conftest import read_all_outputs
from tests.e2e.otlp_python import MESSAGE_BODY, SECRET_VALUE, all_calls, instrumented
from tests.helpers import policy_actions, read_json, start_otlp_listen
from tests.oracle import evaluate
from tests.policy_requests import cases

pytestmark = pytest.mark.slow
ACCOUNT, REGION = "123456789012", "us-east-1"


def stopped(process: Any) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


@pytest.fixture(scope="module")
def observed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One run of the calls, reported through CSM (workload py-csm) and OTLP (workload py-otlp) at once."""
    out = tmp_path_factory.mktemp("otlp-python")
    process, udp_port, otlp_port = start_otlp_listen(out, "--flush-interval", "3600", "--archive", "--quiet")
    with mock_aws():
        session = csm_session(udp_port, "py-csm", REGION, access_key_id=example_access_key(ACCOUNT))
        with instrumented(f"http://127.0.0.1:{otlp_port}/v1/traces", "py-otlp"):
            all_calls(session)
    stopped(process)
    return out


def statements(policy: dict[str, Any]) -> dict[str, list[str]]:
    return {action: sorted(s["Resource"]) for s in policy["Statement"] for action in s["Action"]}


def test_the_otlp_workload_gets_an_exact_policy_naming_its_resources(observed: Path) -> None:
    """Named where botocore's instrumentation names: the table, queue, topic and secret (ARNs and queue URLs carry
    the account, which then applies to all of the workload's calls; the secret's random suffix is generalized to
    `-??????`); not the bucket, stream, log group or parameter, which stay scoped to the region."""
    policy = read_json(observed / "policies" / "py-otlp.json")
    found = statements(policy)
    table, queue, topic = (
        f"arn:aws:dynamodb:{REGION}:{ACCOUNT}:table/csm-demo",
        f"arn:aws:sqs:{REGION}:{ACCOUNT}:csm-demo",
        f"arn:aws:sns:{REGION}:{ACCOUNT}:otlp-alerts",
    )
    secret = f"arn:aws:secretsmanager:{REGION}:{ACCOUNT}:secret:otlp-db-??????"
    buckets, objects = (
        ["arn:aws:s3:::*", f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/*"],
        ["arn:aws:s3:::*/*", f"arn:aws:s3:{REGION}:{ACCOUNT}:accesspoint/*/object/*"],
    )
    assert found == {
        "dynamodb:CreateTable": [table],
        "dynamodb:GetItem": [table],
        "dynamodb:PutItem": [table],
        "kinesis:CreateStream": [f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/*"],
        "kinesis:PutRecord": [f"arn:aws:kinesis:{REGION}:{ACCOUNT}:stream/*"],
        "logs:CreateLogGroup": [f"arn:aws:logs:{REGION}:{ACCOUNT}:log-group:*"],
        "s3:CreateBucket": ["arn:aws:s3:::*"],
        "s3:ListBucket": buckets,
        "s3:GetObject": objects,
        "s3:PutObject": objects,
        "secretsmanager:CreateSecret": [secret],
        "secretsmanager:GetSecretValue": [secret],
        "sns:CreateTopic": [topic],
        "sns:Publish": [topic],
        "sqs:CreateQueue": [f"arn:aws:sqs:{REGION}:{ACCOUNT}:*"],
        "sqs:ReceiveMessage": [queue],
        "sqs:SendMessage": [queue],
        "ssm:GetParameter": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/*"],
        "ssm:PutParameter": [f"arn:aws:ssm:{REGION}:{ACCOUNT}:parameter/*"],
    }


def test_the_same_calls_through_csm_and_otlp_give_the_same_actions(observed: Path) -> None:
    csm, otlp = (read_json(observed / "policies" / f"{name}.json") for name in ("py-csm", "py-otlp"))
    assert policy_actions(csm) == policy_actions(otlp)
    stats = read_json(observed / "stats.json")
    assert stats["otlp"]["aws_spans"] == stats["csm"]["api_call_events"] == stats["workloads"]["py-otlp"]["calls"]
    assert stats["otlp"]["requests_refused"] == 0 and stats["otlp"]["spans_rejected"] == 0


def test_the_evaluator_allows_every_observed_call_and_nothing_beside_it(observed: Path) -> None:
    action_map = load_action_map()
    aggregator = Aggregator(action_map)
    restore(aggregator, read_json(observed / "state.json"))
    workload = aggregator.workloads["py-otlp"]
    policy = read_json(observed / "policies" / "py-otlp.json")
    found = list(cases(action_map, workload, ACCOUNT))
    decisions = evaluate(policy, [case.request for case in found])
    wrong = [(c.why, c.request, d.reason) for c, d in zip(found, decisions, strict=True) if _wrong(c.why, d)]
    assert not wrong, json.dumps(policy, indent=1) + "\n" + "\n".join(map(str, wrong))
    whys = {case.why for case in found}
    assert {"observed", "other name", "other region", "other account"} <= whys


def _wrong(why: str, decision: Any) -> bool:
    return bool(decision.identity_allowed) != (why == "observed")


def test_no_attribute_value_beyond_identifiers_is_written(observed: Path) -> None:
    everything = read_all_outputs(observed)
    archived = [json.loads(line) for path in (observed / "archive").rglob("*.jsonl.gz") for line in _lines(path)]
    otlp = [record for record in archived if record["source"] == "otlp"]
    assert otlp and {record["workload"] for record in otlp} == {"py-otlp"}
    for never in (SECRET_VALUE, MESSAGE_BODY, "http://127.0.0.1", "hello from the CSM demo", "traceback"):
        assert never not in everything and never not in json.dumps(archived)


def _lines(path: Path) -> list[str]:
    import gzip

    return gzip.decompress(path.read_bytes()).decode().splitlines()


@set_initial_no_auth_action_count(3)
def _denied_calls(otlp_port: int) -> None:
    with mock_aws():
        iam = boto3.client("iam", region_name=REGION)
        iam.create_user(UserName="limited")
        allow = {
            "Version": "2012-10-17",
            "Statement": [{"Effect": "Allow", "Action": "s3:ListAllMyBuckets", "Resource": "*"}],
        }
        iam.put_user_policy(UserName="limited", PolicyName="list", PolicyDocument=json.dumps(allow))
        key = iam.create_access_key(UserName="limited")["AccessKey"]
        limited = boto3.Session(key["AccessKeyId"], key["SecretAccessKey"], region_name=REGION)
        with instrumented(f"http://127.0.0.1:{otlp_port}/v1/traces", "py-denied"):
            limited.client("s3").list_buckets()
            with pytest.raises(ClientError, match="not authorized to perform: sns:ListTopics"):
                limited.client("sns").list_topics()


def test_a_denied_call_feeds_the_denied_call_view(tmp_path: Path) -> None:
    process, _, otlp_port = start_otlp_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    _denied_calls(otlp_port)
    stopped(process)
    assert read_json(tmp_path / "stats.json")["calls_denied"] == 1
    state = read_json(tmp_path / "state.json")["workloads"]["py-denied"]
    assert state["denied_actions"] == [{"action": "sns:ListTopics", "service": "SNS", "api": "ListTopics"}]
    assert policy_actions(read_json(tmp_path / "policies" / "py-denied.json")) == [
        "s3:ListAllMyBuckets",
        "sns:ListTopics",
    ]
