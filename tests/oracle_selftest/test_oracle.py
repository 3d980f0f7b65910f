"""What the IAM oracle (tests/oracle) guarantees, proven on hand-written policies before other tests rely on it.

Each test starts one Node process for its batch (hence `slow`). Without Node or the npm package they fail
with OracleUnavailable and a message saying what to install: `make test` installs both.
"""

from __future__ import annotations

import subprocess
import time
from typing import Any

import pytest

from tests.oracle import (
    OracleError,
    Request,
    assert_policy_allows,
    assert_policy_denies,
    evaluate,
    trusting,
)

pytestmark = pytest.mark.slow

ME = "123456789012"
OTHER = "210987654321"


def policy(*statements: dict[str, Any]) -> dict[str, Any]:
    return {"Version": "2012-10-17", "Statement": list(statements)}


def allow(action: str | list[str], resource: str | list[str], **extra: Any) -> dict[str, Any]:
    return {"Effect": "Allow", "Action": action, "Resource": resource, **extra}


def test_resource_star_allows_any_resource_of_the_action() -> None:
    star = policy(allow(["s3:GetObject", "dynamodb:GetItem", "sqs:SendMessage"], "*"))
    decisions = evaluate(
        star,
        [
            Request("s3:GetObject", "arn:aws:s3:::any-bucket/any/key", ME),
            Request("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t", ME),
            Request("sqs:SendMessage", "arn:aws:sqs:ap-south-1:123456789012:q", ME),
        ],
    )
    assert all(d.allowed and d.identity_allowed for d in decisions), [d.reason for d in decisions]
    assert decisions[0].allow_statements == ("policy #1",)
    assert [d.resource_type for d in decisions] == ["object", "table", "queue"]
    assert_policy_denies(star, [Request("sqs:DeleteQueue", "arn:aws:sqs:eu-west-1:123456789012:q", ME)])


def test_scoped_table_arn_allows_its_account_and_region_only() -> None:
    tables = policy(allow("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/*", Sid="Tables"))
    assert_policy_allows(
        tables,
        [
            Request("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/orders", ME),
            Request("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t/index/by-date", ME),
        ],
    )
    other_account, other_region = evaluate(
        tables,
        [
            Request("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:210987654321:table/orders", ME),
            Request("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-2:123456789012:table/orders", ME),
        ],
    )
    assert not other_account.identity_allowed
    assert "accountMismatch" in other_account.reason
    assert other_account.request.owner == OTHER
    assert not other_account.same_account
    assert not other_region.identity_allowed
    assert '"Tables"' in other_region.reason
    assert "regionMismatch" in other_region.reason


def test_wildcard_action_patterns() -> None:
    patterns = policy(
        allow("dynamodb:Get*", "*"),
        allow("s3:*Object", "arn:aws:s3:::b/*"),
        allow("SQS:send?essage", "*"),  # actions match case-insensitively
    )
    assert_policy_allows(
        patterns,
        [
            Request("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t", ME),
            Request("dynamodb:GetRecords", "arn:aws:dynamodb:eu-west-1:123456789012:table/t/stream/s", ME),
            Request("s3:GetObject", "arn:aws:s3:::b/k", ME),
            Request("s3:PutObject", "arn:aws:s3:::b/k", ME),
            Request("sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:q", ME),
        ],
    )
    assert_policy_denies(
        patterns,
        [
            Request("dynamodb:BatchGetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t", ME),
            Request("s3:PutObjectAcl", "arn:aws:s3:::b/k", ME),  # *Object: the pattern must end there
            Request("sqs:SetQueueAttributes", "arn:aws:sqs:eu-west-1:123456789012:q", ME),
        ],
    )
    assert_policy_allows(
        policy(allow("*", "*")),
        [
            Request("kms:Decrypt", "arn:aws:kms:eu-west-1:123456789012:key/k", ME),
            Request("s3:ListAllMyBuckets", "*", ME),  # an action without resource types: Resource "*"
        ],
    )


def test_passrole_only_to_the_named_service() -> None:
    to_lambda = {"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com"]}}
    passrole = policy(allow("iam:PassRole", "arn:aws:iam::123456789012:role/app-*", Condition=to_lambda))
    role = "arn:aws:iam::123456789012:role/app-fn"
    lam_context = {"iam:PassedToService": "lambda.amazonaws.com"}
    lam, ec2, absent, other_role = evaluate(
        passrole,
        [
            Request("iam:PassRole", role, ME, context=lam_context),
            Request("iam:PassRole", role, ME, context={"iam:PassedToService": "ec2.amazonaws.com"}),
            Request("iam:PassRole", role, ME),
            Request("iam:PassRole", role.replace("app-fn", "admin"), ME, context=lam_context),
        ],
    )
    assert lam.allowed
    assert not ec2.allowed
    assert 'request has "ec2.amazonaws.com"' in ec2.reason
    assert not absent.allowed
    assert "key absent from the request" in absent.reason
    assert not other_role.allowed


def test_explicit_deny_beats_allow_across_policies() -> None:
    everything = policy(allow("s3:*", "*"))
    no_delete = policy({"Sid": "NoDelete", "Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"})
    delete, get = evaluate(
        [everything, no_delete],
        [
            Request("s3:DeleteObject", "arn:aws:s3:::b/k", ME),
            Request("s3:GetObject", "arn:aws:s3:::b/k", ME),
        ],
    )
    assert delete.result == delete.identity_result == "ExplicitlyDenied"
    assert delete.deny_statements == ('policy1 "NoDelete"',)
    assert delete.allow_statements == ("policy0 #1",)
    assert "explicitly denied" in delete.reason
    assert get.allowed


def test_s3_bucket_and_object_arns_are_different_resources() -> None:
    bucket_only = policy(allow(["s3:ListBucket", "s3:GetObject"], "arn:aws:s3:::b"))
    objects_only = policy(allow(["s3:ListBucket", "s3:GetObject"], "arn:aws:s3:::b/*"))
    list_bucket = Request("s3:ListBucket", "arn:aws:s3:::b", ME)
    get_object = Request("s3:GetObject", "arn:aws:s3:::b/k", ME)
    assert_policy_allows(bucket_only, [list_bucket])
    assert_policy_denies(bucket_only, [get_object])
    assert_policy_allows(objects_only, [get_object])
    assert_policy_denies(objects_only, [list_bucket])
    # an S3 ARN has no account: the owner is the caller's unless given, and aws:ResourceAccount tells them apart
    mine = policy(allow("s3:GetObject", "*", Condition={"StringEquals": {"aws:ResourceAccount": ME}}))
    assert_policy_allows(mine, [get_object])
    assert_policy_denies(mine, [Request("s3:GetObject", "arn:aws:s3:::b/k", ME, resource_account=OTHER)])


def test_cross_account_needs_the_resource_policy_too() -> None:
    star = policy(allow(["sqs:SendMessage", "kms:Decrypt"], "*"))
    queue = "arn:aws:sqs:eu-west-1:210987654321:shared"
    key = "arn:aws:kms:eu-west-1:123456789012:key/k"
    alone, trusted, own_key, own_key_with_policy = evaluate(
        star,
        [
            Request("sqs:SendMessage", queue, ME),
            Request("sqs:SendMessage", queue, ME, resource_policy=trusting(ME)),
            Request("kms:Decrypt", key, ME),
            Request("kms:Decrypt", key, ME, resource_policy=trusting(ME)),
        ],
    )
    assert alone.identity_allowed
    assert not alone.allowed
    assert "cross-account" in alone.reason
    assert trusted.allowed
    assert own_key.identity_allowed  # a KMS key needs its key policy even in the caller's account
    assert not own_key.allowed
    assert own_key_with_policy.allowed


def test_region_and_derived_context_keys() -> None:
    eu_only = policy(allow("*", "*", Condition={"StringEquals": {"aws:RequestedRegion": ["eu-west-1", "eu-west-2"]}}))
    assert_policy_allows(
        eu_only,
        [
            Request("sqs:SendMessage", "arn:aws:sqs:eu-west-2:123456789012:q", ME),  # region from the ARN
            Request("s3:GetObject", "arn:aws:s3:::b/k", ME, region="eu-west-1"),
        ],
    )
    assert_policy_denies(
        eu_only,
        [
            Request("sqs:SendMessage", "arn:aws:sqs:us-east-1:123456789012:q", ME),
            Request("s3:GetObject", "arn:aws:s3:::b/k", ME),  # no region in an S3 ARN, none given
        ],
    )
    (ignored,) = evaluate(
        policy(allow("lambda:CreateFunction", "*")),
        [
            Request(
                "lambda:CreateFunction",
                "arn:aws:lambda:eu-west-1:123456789012:function:f",
                ME,
                context={"iam:PassedToService": "x"},
            )
        ],
    )
    assert ignored.ignored_context_keys == ("iam:PassedToService",)  # not a key of that action: dropped


def test_refused_requests_raise_and_never_read_as_denied() -> None:
    star = policy(allow("*", "*"))
    with pytest.raises(OracleError) as refused:
        evaluate(
            star,
            [
                Request("s3:GetObject", "arn:aws:s3:::b", ME),  # a bucket is no resource of GetObject
                Request("s3:NoSuchAction", "*", ME),
                Request("s3:ListAllMyBuckets", "arn:aws:s3:::b", ME),  # an action without resource types
                Request("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/*", ME),
                Request(
                    "iam:PassRole", "arn:aws:iam::123456789012:role/r", ME, context={"iam:PassedToService": ["a", "b"]}
                ),
                Request("s3:ListAllMyBuckets", "*", ME),  # fine
            ],
        )
    message = str(refused.value)
    assert "refused 5 of 6" in message
    for expected in ("no.resource.types", "invalid.action", "must.use.wildcard", "resource.pattern", "single-valued"):
        assert expected in message
    with pytest.raises(OracleError, match="Principal is not allowed"):
        evaluate(policy({**allow("*", "*"), "Principal": "*"}), [Request("s3:ListAllMyBuckets", "*", ME)])


def test_assert_helpers_say_why() -> None:
    with pytest.raises(AssertionError, match=r"(?s)does not allow 1 of 2 .*regionMismatch"):
        assert_policy_allows(
            policy(allow("sqs:*", "arn:aws:sqs:eu-west-1:123456789012:*")),
            [
                Request("sqs:SendMessage", "arn:aws:sqs:eu-west-1:123456789012:q", ME),
                Request("sqs:SendMessage", "arn:aws:sqs:eu-west-2:123456789012:q", ME),
            ],
        )


def test_known_limits_of_the_evaluator() -> None:
    """iam-simulate 0.1.173 differs from AWS here; a failure means an upgrade changed it: update the README."""
    variable = policy(allow("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:${aws:PrincipalAccount}:table/*"))
    assert_policy_denies(variable, [Request("dynamodb:GetItem", "arn:aws:dynamodb:eu-west-1:123456789012:table/t", ME)])
    typo_deny = {
        "Effect": "Deny",
        "Action": "*",
        "Resource": "*",
        "Condition": {"StringEqualz": {"aws:ResourceAccount": ME}},
    }
    assert_policy_allows(policy(allow("*", "*"), typo_deny), [Request("s3:GetObject", "arn:aws:s3:::b/k", ME)])
    anyone = policy({"Effect": "Deny", "Action": "*", "Resource": "*"})
    assert_policy_allows(anyone, [Request("sts:GetCallerIdentity", "*", ME)])  # as in AWS: no policy can deny it


def test_a_batch_of_500_is_one_process(monkeypatch: pytest.MonkeyPatch) -> None:
    starts = []
    run = subprocess.run

    def counting_run(*args: Any, **kwargs: Any) -> Any:
        starts.append(args)
        return run(*args, **kwargs)

    monkeypatch.setattr(subprocess, "run", counting_run)
    scoped = policy(
        allow(
            ["dynamodb:*", "sqs:*", "s3:GetObject"],
            ["arn:aws:dynamodb:eu-west-1:123456789012:table/*", "arn:aws:sqs:*:123456789012:*", "arn:aws:s3:::b/*"],
        )
    )
    requests = [
        Request(*call, ME)
        for i in range(125)
        for call in (
            ("dynamodb:PutItem", f"arn:aws:dynamodb:eu-west-1:123456789012:table/t{i}"),
            ("dynamodb:PutItem", f"arn:aws:dynamodb:eu-west-2:123456789012:table/t{i}"),
            ("sqs:SendMessage", f"arn:aws:sqs:eu-west-1:123456789012:q{i}"),
            ("s3:GetObject", f"arn:aws:s3:::b/{i}"),
        )
    ]
    began = time.monotonic()
    decisions = evaluate(scoped, requests)
    elapsed = time.monotonic() - began
    assert len(starts) == 1
    assert [d.identity_allowed for d in decisions] == [True, False, True, True] * 125
    assert elapsed < 30, f"500 requests took {elapsed:.1f} s"
