"""Policies from observed calls: scoped to what the calls named or to their account and region, iam:PassRole
only with its condition, request-dependent actions only when a request showed them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.policy import PolicyBuilder, PolicyOptions, merge_grants
from collector_runtime.core.policy_size import policy_size, split_policy
from collector_runtime.core.records import DENIED
from tests.conftest import observed

ACCOUNT, OTHER = "123456789012", "210987654321"


def policy(aggregator: Aggregator, options: PolicyOptions | None = None, workload: str = "app") -> dict[str, Any]:
    builder = PolicyBuilder(aggregator.action_map, options or PolicyOptions())
    return builder.document(builder.grants(aggregator.workloads[workload]))


def resources_of(document: dict[str, Any]) -> dict[str, Any]:
    """action -> its Resource (and Condition), whatever statement it sits in."""
    found = {}
    for statement in document["Statement"]:
        for action in statement["Action"]:
            found[action] = (statement["Resource"], statement.get("Condition"))
    return found


def test_shape_and_version(aggregator: Aggregator) -> None:
    aggregator.add(observed("SNS", "ListTopics", region="eu-west-1", account=ACCOUNT))
    document = policy(aggregator)
    assert document == {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "ObservedCalls", "Effect": "Allow", "Action": ["sns:ListTopics"], "Resource": "*"}],
    }


def test_resource_typed_actions_are_scoped_to_the_calls_region_and_account(aggregator: Aggregator) -> None:
    aggregator.add(observed("DynamoDB", "GetItem", region="eu-west-1", account=ACCOUNT))
    aggregator.add(observed("SQS", "SendMessage", region="eu-west-1", account=ACCOUNT))
    aggregator.add(observed("S3", "ListBuckets", region="eu-west-1", account=ACCOUNT))
    found = resources_of(policy(aggregator))
    assert found["dynamodb:GetItem"] == ([f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*"], None)
    assert found["sqs:SendMessage"] == ([f"arn:aws:sqs:eu-west-1:{ACCOUNT}:*"], None)
    assert found["s3:ListAllMyBuckets"] == ("*", None)  # no resource type: only "*" exists


@pytest.mark.parametrize(
    ("scope", "expected"),
    [
        ("region", f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*"),
        ("account", f"arn:aws:dynamodb:*:{ACCOUNT}:table/*"),
        ("none", "arn:aws:dynamodb:*:*:table/*"),
    ],
)
def test_the_resource_scope_is_a_choice(aggregator: Aggregator, scope: str, expected: str) -> None:
    aggregator.add(observed("DynamoDB", "GetItem", region="eu-west-1", account=ACCOUNT))
    assert resources_of(policy(aggregator, PolicyOptions(resource_scope=scope)))["dynamodb:GetItem"][0] == [expected]


def test_an_unknown_account_stays_a_wildcard_and_china_has_its_partition(aggregator: Aggregator) -> None:
    aggregator.add(observed("DynamoDB", "GetItem", region="cn-north-1"))
    assert resources_of(policy(aggregator))["dynamodb:GetItem"][0] == ["arn:aws-cn:dynamodb:cn-north-1:*:table/*"]


def test_several_accounts_and_regions_each_get_theirs(aggregator: Aggregator) -> None:
    for region, account in (("eu-west-1", ACCOUNT), ("us-east-1", OTHER)):
        aggregator.add(observed("KMS", "Decrypt", region=region, account=account))
    assert resources_of(policy(aggregator))["kms:Decrypt"][0] == [
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/*",
        f"arn:aws:kms:us-east-1:{OTHER}:key/*",
    ]


def test_named_resources_are_granted_as_named_even_in_another_account(aggregator: Aggregator) -> None:
    table = f"arn:aws:dynamodb:eu-west-1:{OTHER}:table/orders"
    aggregator.add(observed("DynamoDB", "GetItem", region="eu-west-1", account=ACCOUNT, resources=(table,)))
    assert resources_of(policy(aggregator))["dynamodb:GetItem"][0] == [table]


def test_a_bucket_scopes_bucket_and_object_actions(aggregator: Aggregator) -> None:
    bucket = ("arn:aws:s3:::reports",)
    aggregator.add(observed("S3", "GetObject", region="eu-west-1", account=ACCOUNT, resources=bucket))
    aggregator.add(observed("S3", "ListObjectsV2", region="eu-west-1", account=ACCOUNT, resources=bucket))
    found = resources_of(policy(aggregator))
    assert found["s3:GetObject"][0] == ["arn:aws:s3:::reports/*"]
    assert found["s3:ListBucket"][0] == ["arn:aws:s3:::reports"]


def test_without_a_bucket_object_actions_keep_every_type_they_may_act_on(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", region="eu-west-1", account=ACCOUNT))
    assert resources_of(policy(aggregator))["s3:GetObject"][0] == [
        "arn:aws:s3:::*/*",
        f"arn:aws:s3:eu-west-1:{ACCOUNT}:accesspoint/*/object/*",
    ]


def test_a_named_object_is_granted_as_it_is_not_through_every_access_point(aggregator: Aggregator) -> None:
    obj = ("arn:aws:s3:::artifacts/build/1",)
    aggregator.add(observed("S3", "GetObject", region="eu-west-1", account=ACCOUNT, resources=obj))
    aggregator.add(observed("S3", "ListObjectsV2", region="eu-west-1", account=ACCOUNT, resources=obj))
    found = resources_of(policy(aggregator, PolicyOptions(exact_names=True)))  # the build number: build/* else
    assert found["s3:GetObject"][0] == ["arn:aws:s3:::artifacts/build/1"]
    assert found["s3:ListBucket"][0] == ["arn:aws:s3:::artifacts"]  # the object's bucket fills the bucket type


def test_an_optional_resource_type_only_when_the_call_named_one(aggregator: Aggregator) -> None:
    table = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders"
    aggregator.add(observed("DynamoDB", "Query", region="eu-west-1", account=ACCOUNT, resources=(table,)))
    aggregator.add(
        observed("DynamoDB", "Query", region="eu-west-1", account=ACCOUNT, resources=(f"{table}/index/by-day",))
    )
    aggregator.add(observed("DynamoDB", "Scan", region="eu-west-1", account=ACCOUNT, resources=(table,)))
    found = resources_of(policy(aggregator))
    assert found["dynamodb:Scan"][0] == [table]  # no index scanned: no index granted
    assert found["dynamodb:Query"][0] == [table, f"{table}/index/by-day"]


def test_an_action_on_another_resource_ignores_the_requests_bucket(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "CopyObject", region="eu-west-1", account=ACCOUNT, resources=("arn:aws:s3:::dst",)))
    found = resources_of(policy(aggregator))
    assert found["s3:PutObject"][0] == ["arn:aws:s3:::dst/*"]
    assert "arn:aws:s3:::dst/*" not in found["s3:GetObject"][0]  # the source object is elsewhere


def test_redundant_patterns_are_dropped(aggregator: Aggregator) -> None:
    aggregator.add(observed("DynamoDB", "Query", region="eu-west-1", account=ACCOUNT))
    assert resources_of(policy(aggregator))["dynamodb:Query"][0] == [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/*"]


def test_pass_role_has_its_own_statement_with_the_passed_to_condition(aggregator: Aggregator) -> None:
    aggregator.add(observed("Lambda", "CreateFunction", region="eu-west-1", account=ACCOUNT))
    statements = {s["Sid"]: s for s in policy(aggregator)["Statement"]}
    assert statements["PassRole"] == {
        "Sid": "PassRole",
        "Effect": "Allow",
        "Action": ["iam:PassRole"],
        "Resource": [f"arn:aws:iam::{ACCOUNT}:role/*"],
        "Condition": {"StringEquals": {"iam:PassedToService": ["lambda.amazonaws.com"]}},
    }


def test_a_named_role_narrows_pass_role(aggregator: Aggregator) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/service/builder"
    aggregator.add(observed("Lambda", "CreateFunction", region="eu-west-1", account=ACCOUNT, resources=(role,)))
    assert resources_of(policy(aggregator))["iam:PassRole"][0] == [role]


def test_no_pass_role_is_ever_unconditioned(aggregator: Aggregator) -> None:
    for service, operation in (("Lambda", "CreateFunction"), ("ECS", "RunTask"), ("SNS", "CreateTopic")):
        aggregator.add(observed(service, operation, region="eu-west-1", account=ACCOUNT))
    for options in (PolicyOptions(), PolicyOptions(include_dependent=True)):
        for statement in policy(aggregator, options)["Statement"]:
            if "iam:PassRole" in statement["Action"]:
                assert statement["Action"] == ["iam:PassRole"] and statement["Condition"]["StringEquals"]


def test_request_dependent_actions_are_listed_not_granted(aggregator: Aggregator) -> None:
    aggregator.add(observed("SNS", "CreateTopic", region="eu-west-1", account=ACCOUNT))
    builder = PolicyBuilder(aggregator.action_map, PolicyOptions())
    grants = builder.grants(aggregator.workloads["app"])
    assert set(resources_of(builder.document(grants))) == {"sns:CreateTopic"}
    listed = {note.action: note.when for note in grants.may_need}
    assert listed["iam:PassRole"] == ("Attributes",) and listed["sns:TagResource"] == ("Tags",)


def test_a_request_that_set_a_trigger_gets_its_action(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "PutObject", region="eu-west-1", resources=("arn:aws:s3:::b1",)))
    aggregator.add(
        observed(
            "S3",
            "PutObject",
            region="eu-west-1",
            resources=("arn:aws:s3:::b1",),
            request_members=frozenset({"Tagging"}),
        )
    )
    found = resources_of(policy(aggregator))
    assert found["s3:PutObjectTagging"][0] == ["arn:aws:s3:::b1/*"]
    assert "s3:PutObjectAcl" not in found


def test_a_triggered_action_is_granted_only_where_a_request_set_its_member(aggregator: Aggregator) -> None:
    tagged, plain = "arn:aws:s3:::b1/tagged/1", "arn:aws:s3:::b1/plain/1"
    aggregator.add(observed("S3", "PutObject", region="eu-west-1", resources=(plain,)))
    aggregator.add(
        observed("S3", "PutObject", region="eu-west-1", resources=(tagged,), request_members=frozenset({"Tagging"}))
    )
    found = resources_of(policy(aggregator))  # the numbered keys generalized: each prefix stays apart
    assert found["s3:PutObject"][0] == ["arn:aws:s3:::b1/plain/*", "arn:aws:s3:::b1/tagged/*"]
    assert found["s3:PutObjectTagging"][0] == ["arn:aws:s3:::b1/tagged/*"]
    exact = resources_of(policy(aggregator, PolicyOptions(exact_names=True)))
    assert exact["s3:PutObject"][0] == [plain, tagged]
    assert exact["s3:PutObjectTagging"][0] == [tagged]


def test_dependent_actions_flag_grants_every_one_apart(aggregator: Aggregator) -> None:
    aggregator.add(observed("SNS", "CreateTopic", region="eu-west-1", account=ACCOUNT))
    statements = policy(aggregator, PolicyOptions(include_dependent=True))["Statement"]
    dependent = [s for s in statements if s["Sid"].startswith("DependentActions")]
    assert {"sns:TagResource", "sns:PutDataProtectionPolicy"} <= {a for s in dependent for a in s["Action"]}
    assert any(s["Sid"] == "PassRole" for s in statements)


def test_an_action_a_denial_named_is_scoped_to_the_resource_it_named(aggregator: Aggregator) -> None:
    key = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd"
    call = observed(
        "S3",
        "GetObject",
        region="eu-west-1",
        account=ACCOUNT,
        outcome=DENIED,
        denied_actions=("kms:Decrypt",),
        resources=("arn:aws:s3:::reports", key),
    )
    aggregator.add(call)
    found = resources_of(policy(aggregator))
    assert found["kms:Decrypt"][0] == [key]
    assert found["s3:GetObject"][0] == ["arn:aws:s3:::reports/*"]


def test_force_wildcard_resource(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", region="eu-west-1", resources=("arn:aws:s3:::reports",)))
    aggregator.add(observed("Lambda", "CreateFunction", region="eu-west-1", account=ACCOUNT))
    found = resources_of(policy(aggregator, PolicyOptions(force_wildcard_resource=True)))
    assert found["s3:GetObject"] == ("*", None)
    assert found["iam:PassRole"][0] == "*" and found["iam:PassRole"][1]  # still conditioned


def test_first_seen_order_when_not_sorted(aggregator: Aggregator) -> None:
    aggregator.add(observed("SQS", "SendMessage", region="eu-west-1", account=ACCOUNT))
    aggregator.add(observed("SQS", "DeleteMessage", region="eu-west-1", account=ACCOUNT))
    document = policy(aggregator, PolicyOptions(sort_alphabetical=False))
    assert document["Statement"][0]["Action"] == ["sqs:SendMessage", "sqs:DeleteMessage"]


def test_merged_policy_is_the_union(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", "a", region="eu-west-1", resources=("arn:aws:s3:::xray",)))
    aggregator.add(observed("S3", "GetObject", "b", region="eu-west-1", resources=("arn:aws:s3:::yankee",)))
    aggregator.add(observed("SQS", "ListQueues", "b", region="eu-west-1"))
    builder = PolicyBuilder(aggregator.action_map, PolicyOptions())
    merged = merge_grants(builder.grants(w) for w in aggregator.workloads.values())
    found = resources_of(builder.document(merged))
    assert found["sqs:ListQueues"] == ("*", None)
    assert found["s3:GetObject"][0] == ["arn:aws:s3:::xray/*", "arn:aws:s3:::yankee/*"]


def test_rendering_is_deterministic(aggregator: Aggregator) -> None:
    for api in ("PutItem", "GetItem", "Query", "Scan", "DeleteItem"):
        aggregator.add(observed("DynamoDB", api, region="eu-west-1", account=ACCOUNT))
    assert json.dumps(policy(aggregator)) == json.dumps(policy(aggregator))


def test_small_policies_are_not_split() -> None:
    document = {
        "Version": "2012-10-17",
        "Statement": [{"Sid": "A", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}],
    }
    assert split_policy(document, 6144) == [document]


def test_large_policies_split_into_parts_that_grant_the_same(action_map) -> None:  # type: ignore[no-untyped-def]
    actions = sorted(action_map.actions_of("ec2"))[:600]
    document = {
        "Version": "2012-10-17",
        "Statement": [
            {"Sid": "ObservedCalls", "Effect": "Allow", "Action": actions[:500], "Resource": "*"},
            {"Sid": "DependentActions", "Effect": "Allow", "Action": actions[500:], "Resource": "*"},
        ],
    }
    parts = split_policy(document, 6144)
    assert len(parts) > 1
    assert all(policy_size(p) <= 6144 for p in parts)
    regrouped: dict[str, list[str]] = {}
    for part in parts:
        assert part["Version"] == "2012-10-17"
        for statement in part["Statement"]:
            regrouped.setdefault(statement["Sid"], []).extend(statement["Action"])
    assert regrouped == {"ObservedCalls": actions[:500], "DependentActions": actions[500:]}
