from __future__ import annotations

import json

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.policy import PolicyOptions, merge_grants, render_policy, workload_grants
from collector_runtime.core.policy_size import policy_size, split_policy
from tests.conftest import observed


def policy(aggregator: Aggregator, options: PolicyOptions | None = None, workload: str = "app") -> dict:  # type: ignore[type-arg]
    options = options or PolicyOptions()
    return render_policy(workload_grants(aggregator.workloads[workload], aggregator.action_map, options), options)


def statements(document: dict) -> dict[str, tuple[list[str], object]]:  # type: ignore[type-arg]
    return {s["Sid"]: (s["Action"], s["Resource"]) for s in document["Statement"]}


def test_shape_and_version(aggregator: Aggregator) -> None:
    aggregator.add(observed("SQS", "SendMessage"))
    aggregator.add(observed("SNS", "Publish"))  # nothing request-dependent
    document = policy(aggregator)
    assert document["Version"] == "2012-10-17"
    assert document["Statement"] == [
        {"Sid": "ObservedCalls", "Effect": "Allow", "Action": ["sns:Publish", "sqs:SendMessage"], "Resource": "*"}
    ]


def test_first_seen_order_when_not_sorted(aggregator: Aggregator) -> None:
    aggregator.add(observed("SQS", "SendMessage"))
    aggregator.add(observed("DynamoDB", "PutItem"))
    document = policy(aggregator, PolicyOptions(sort_alphabetical=False))
    assert document["Statement"][0]["Action"] == ["sqs:SendMessage", "dynamodb:PutItem"]


def test_dependent_actions_are_granted_only_when_asked_for_in_their_own_statement(aggregator: Aggregator) -> None:
    aggregator.add(observed("SNS", "CreateTopic"))
    found = statements(policy(aggregator, PolicyOptions(include_dependent=True)))
    assert found["ObservedCalls"] == (["sns:CreateTopic"], "*")
    assert "iam:PassRole" in found["DependentActions"][0]
    assert statements(policy(aggregator)) == {"ObservedCalls": (["sns:CreateTopic"], "*")}


def test_s3_actions_are_scoped_to_the_buckets_csm_revealed(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", resources=("arn:aws:s3:::reports",)))
    aggregator.add(observed("S3", "ListObjectsV2", resources=("arn:aws:s3:::reports",)))
    aggregator.add(observed("S3", "ListBuckets"))
    found = statements(policy(aggregator))
    assert found["ObservedCalls"] == (["s3:ListAllMyBuckets"], "*")
    assert found["ObservedCallsOnBuckets1"] == (["s3:ListBucket"], ["arn:aws:s3:::reports"])
    assert found["ObservedCallsOnBuckets2"] == (["s3:GetObject"], ["arn:aws:s3:::reports/*"])


def test_one_path_style_request_widens_the_action_to_any_resource(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", resources=("arn:aws:s3:::reports",)))
    aggregator.add(observed("S3", "GetObject"))
    without_dependent = PolicyOptions(include_dependent=False)  # GetObject may also need s3:GetObjectVersion, ...
    assert statements(policy(aggregator, without_dependent)) == {"ObservedCalls": (["s3:GetObject"], "*")}


def test_an_action_needed_elsewhere_on_an_unknown_resource_is_not_scoped(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", resources=("arn:aws:s3:::alpha",)))
    aggregator.add(observed("S3", "CopyObject", resources=("arn:aws:s3:::bravo",)))
    found = statements(policy(aggregator))
    assert found["ObservedCalls"] == (["s3:GetObject"], "*")
    assert found["ObservedCallsOnBuckets1"] == (["s3:PutObject"], ["arn:aws:s3:::bravo/*"])


def test_force_wildcard_resource(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", resources=("arn:aws:s3:::reports",)))
    document = policy(aggregator, PolicyOptions(force_wildcard_resource=True, include_dependent=False))
    assert statements(document) == {"ObservedCalls": (["s3:GetObject"], "*")}


def test_merged_policy_is_the_union(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", "a", resources=("arn:aws:s3:::xray",)))
    aggregator.add(observed("S3", "GetObject", "b", resources=("arn:aws:s3:::yankee",)))
    aggregator.add(observed("SQS", "ListQueues", "b"))
    options = PolicyOptions()
    merged = merge_grants(workload_grants(w, aggregator.action_map, options) for w in aggregator.workloads.values())
    found = statements(render_policy(merged, options))
    assert found["ObservedCalls"] == (["sqs:ListQueues"], "*")
    assert found["ObservedCallsOnBuckets1"] == (["s3:GetObject"], ["arn:aws:s3:::xray/*", "arn:aws:s3:::yankee/*"])


def test_rendering_is_deterministic(aggregator: Aggregator) -> None:
    for api in ("PutItem", "GetItem", "Query", "Scan", "DeleteItem"):
        aggregator.add(observed("DynamoDB", api))
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
