"""Real clients through `csm-collector proxy` (one run for the module, see proxy_run.py): the exact policy of
each workload, with the resources its requests named; request-dependent actions exactly when a request used
them; iam:PassRole on the passed role, conditioned; and what the proxy leaves alone."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.proxy_run import ProxyRun
from tests.proxy_requests import ACCOUNT

pytestmark = pytest.mark.slow
A, R = ACCOUNT, "eu-west-1"
Grants = dict[str, set[str]]


def grants(policy: dict[str, Any]) -> Grants:
    """Action -> the resources granted it, whatever statement they are in."""
    found: Grants = {}
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        for action in statement["Action"]:
            found.setdefault(action, set()).update([resources] if isinstance(resources, str) else resources)
    return found


def bucket(name: str) -> str:
    return f"arn:aws:s3:::{name}"


def objects(name: str, key: str) -> set[str]:
    """The object the request named, and no access point's (the request went to the bucket, not through one)."""
    return {f"arn:aws:s3:::{name}/{key}"}


def common(tag: str, *, key: str, parameter: str, secret: str) -> Grants:
    """What the JS and Go clients both do (see proxy_clients/)."""
    return {
        "s3:CreateBucket": {bucket(f"{tag}-bucket")},
        "s3:PutObject": objects(f"{tag}-bucket", key),
        "s3:GetObject": objects(f"{tag}-bucket", key),
        "dynamodb:CreateTable": {f"arn:aws:dynamodb:{R}:{A}:table/{tag}-table"},
        "dynamodb:PutItem": {f"arn:aws:dynamodb:{R}:{A}:table/{tag}-table"},
        "sqs:CreateQueue": {f"arn:aws:sqs:{R}:{A}:{tag}-queue"},
        "sqs:SendMessage": {f"arn:aws:sqs:{R}:{A}:{tag}-queue"},
        "ssm:PutParameter": {f"arn:aws:ssm:{R}:{A}:parameter/{tag}/{parameter}"},
        "secretsmanager:CreateSecret": {f"arn:aws:secretsmanager:{R}:{A}:secret:{tag}/{secret}-??????"},
    }


ROLE = f"arn:aws:iam::{A}:role/deploy/fn-role"
EXPECTED: dict[str, Grants] = {
    "w-boto3": {
        "s3:CreateBucket": {bucket("py-bucket")},
        # PutObject with and without Tagging: s3:PutObjectTagging only on the object whose request set Tagging
        # (the core keeps request members per scope: what a request set goes with the resources it named)
        "s3:PutObject": objects("py-bucket", "plain/object.txt") | objects("py-bucket", "tagged/object.txt"),
        "s3:PutObjectTagging": objects("py-bucket", "tagged/object.txt"),
        "s3:GetObject": objects("py-bucket", "plain/object.txt"),
        "dynamodb:CreateTable": {f"arn:aws:dynamodb:{R}:{A}:table/py-table"},
        "dynamodb:PutItem": {f"arn:aws:dynamodb:{R}:{A}:table/py-table"},
        "dynamodb:GetItem": {f"arn:aws:dynamodb:{R}:{A}:table/py-table"},
        "sqs:CreateQueue": {f"arn:aws:sqs:{R}:{A}:py-queue"},
        "sqs:SendMessage": {f"arn:aws:sqs:{R}:{A}:py-queue"},
        "sns:CreateTopic": {f"arn:aws:sns:{R}:{A}:py-topic"},  # its Name fills the topic ARN
        "sns:Publish": {f"arn:aws:sns:{R}:{A}:py-topic"},
        "ssm:PutParameter": {f"arn:aws:ssm:{R}:{A}:parameter/py/password"},
        "ssm:GetParameter": {f"arn:aws:ssm:{R}:{A}:parameter/py/password"},
        "secretsmanager:CreateSecret": {f"arn:aws:secretsmanager:{R}:{A}:secret:py/db-??????"},
        "secretsmanager:GetSecretValue": {f"arn:aws:secretsmanager:{R}:{A}:secret:py/db-??????"},
        "lambda:CreateFunction": {f"arn:aws:lambda:{R}:{A}:function:py-fn"},
        "iam:PassRole": {ROLE},
    },
    "w-cli": {
        "s3:CreateBucket": {bucket("cli-bucket")},
        "s3:PutObject": objects("cli-bucket", "logs/a.txt"),
        "s3:ListBucket": {bucket("cli-bucket")},
        "sqs:CreateQueue": {f"arn:aws:sqs:{R}:{A}:cli-queue"},
    },
    "w-js": common("js", key="js/object.txt", parameter="token", secret="api"),
    "w-go": common("go", key="state/terraform.tfstate", parameter="key", secret="token")
    | {"s3:PutObjectTagging": objects("go-bucket", "state/terraform.tfstate")},
}


@pytest.mark.parametrize("workload", sorted(EXPECTED))
def test_each_client_gets_exactly_the_policy_of_its_calls(run: ProxyRun, workload: str) -> None:
    assert grants(run.policy(workload)) == EXPECTED[workload]


def test_every_client_talked_to_aws_host_names_and_got_answers(run: ProxyRun) -> None:
    for workload, tag in (("w-boto3", "py"), ("w-js", "js"), ("w-go", "go")):
        assert run.results[workload]["account"] == ACCOUNT
        assert run.results[workload]["queue_url"].endswith(f"://sqs.{R}.amazonaws.com/{A}/{tag}-queue")
    assert run.results["w-cli"]["Account"] == ACCOUNT


def test_request_dependent_actions_are_granted_exactly_when_a_request_used_them(run: ProxyRun) -> None:
    with_tagging = {w for w in EXPECTED if "s3:PutObjectTagging" in grants(run.policy(w))}
    assert with_tagging == {"w-boto3", "w-go"}  # the CLI's and JS's PutObject set no Tagging
    may_need = run.stats()["workloads"]["w-js"]["may_need"]
    assert any(item["action"] == "s3:PutObjectTagging" for item in may_need)


def test_pass_role_is_on_the_passed_role_and_conditioned_on_its_service(run: ProxyRun) -> None:
    statements = [s for s in run.policy("w-boto3")["Statement"] if s["Action"] == ["iam:PassRole"]]
    assert statements == [
        {
            "Sid": "PassRole",
            "Effect": "Allow",
            "Action": ["iam:PassRole"],
            "Resource": [ROLE],
            "Condition": {"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com"]}},
        }
    ]


def test_a_request_no_operation_matches_is_reported_as_unmapped(run: ProxyRun) -> None:
    stats = run.stats()
    assert {"service": "s3", "api": "PATCH (no operation matches)", "calls": 1} in stats["unmapped_calls"]
    assert stats["proxy"]["requests_unmatched"] == 1
    assert "? w-probe" in run.stdout and "PATCH (no operation matches)" in run.stdout
    assert grants(run.policy("w-probe")) == {}


def test_denied_calls_show_in_the_view_and_the_stats_and_name_the_missing_actions(run: ProxyRun) -> None:
    # moto answers both with an XML 403 (AccessDenied), which boto3 cannot parse for JSON-protocol clients
    assert run.results["w-denied"] == {"sqs": "403", "dynamodb": "403"}
    stats = run.stats()
    assert stats["calls_denied"] == 2
    assert "! w-denied" in run.stdout and "sqs:ListQueues" in run.stdout
    assert grants(run.policy("w-denied")) == {
        "sqs:ListQueues": {"*"},
        "dynamodb:DescribeTable": {f"arn:aws:dynamodb:{R}:{A}:table/py-table"},
    }


def test_other_hosts_are_left_alone(run: ProxyRun) -> None:
    """TLS to a server that is not AWS (allowed with --allow-destination) is tunnelled: the client verified
    the server's own certificate with that certificate alone (no interception possible); plain HTTP to
    moto (the --upstream, an allowed destination) is forwarded, not recorded."""
    from cryptography import x509

    seen = x509.load_der_x509_certificate(run.results["tls_certificate"])
    assert seen == x509.load_pem_x509_certificate(run.results["tls_own_certificate"])
    assert run.results["probes"]["tls_body"] == b"own server\n"
    assert run.results["probes"]["plain"] == 200
    counters = run.stats()["proxy"]
    assert counters["tunnels_not_intercepted"] == 1 and counters["requests_not_intercepted"] == 1
    assert counters["destinations_refused"] == 0


def test_malformed_input_is_refused_and_the_proxy_goes_on(run: ProxyRun) -> None:
    assert run.results["malformed"].startswith(b"HTTP/1.1 400")
    assert run.stats()["proxy"]["internal_errors"] == 0
    assert run.results["probes"]["tls_body"]  # served after the malformed request


def test_sigterm_writes_everything_and_exits_zero(run: ProxyRun) -> None:
    assert run.returncode == 0
    stats = run.stats()
    assert stats["proxy"]["requests_intercepted"] == stats["calls"]
    assert stats["archive"]["events_archived"] == stats["calls"]
