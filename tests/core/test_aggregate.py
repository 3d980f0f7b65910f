"""The aggregator: observed calls (from any source) in, per-workload usage and learned actions out."""

from __future__ import annotations

from collector_runtime.core.aggregate import Aggregator, Limits
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.records import DENIED, FAILED, OTLP, PROXY
from collector_runtime.core.usage import DENIED_MESSAGE, DEPENDENT, OBSERVED
from tests.conftest import observed


def actions_of(aggregator: Aggregator, workload: str = "app") -> dict[str, str]:
    return {action: origin.kind for action, origin in aggregator.workloads[workload].actions.items()}


def granted_for_every_call(aggregator: Aggregator, workload: str = "app") -> dict[str, str]:
    """The actions that are not request-dependent (GetItem may also need dynamodb:ReadDataForReplication)."""
    return {action: kind for action, kind in actions_of(aggregator, workload).items() if kind != DEPENDENT}


def test_calls_build_the_workload_actions(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "ListBuckets"))
    aggregator.add(observed("DynamoDB", "GetItem", source=PROXY))
    assert granted_for_every_call(aggregator) == {"s3:ListAllMyBuckets": OBSERVED, "dynamodb:GetItem": OBSERVED}


def test_workloads_are_kept_apart(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "ListBuckets", workload="default"))
    aggregator.add(observed("SQS", "ListQueues", workload="worker", source=OTLP))
    assert set(aggregator.workloads) == {"default", "worker"}
    assert actions_of(aggregator, "worker") == {"sqs:ListQueues": OBSERVED}


def test_counters(aggregator: Aggregator) -> None:
    aggregator.add(observed("STS", "GetCallerIdentity"))
    aggregator.add(observed("S3", "Teleport"))
    aggregator.add(observed("S3", "Teleport"))
    aggregator.add(observed("S3", "GetObject", outcome=DENIED, error_code="AccessDenied"))
    aggregator.add(observed("S3", "GetObject", outcome=FAILED, error_code="NoSuchKey"))
    stats = aggregator.stats.as_dict()
    assert (stats["calls"], stats["calls_permissionless"], stats["calls_unmapped"]) == (5, 1, 2)
    assert stats["unmapped_calls"] == [{"service": "S3", "api": "Teleport", "calls": 2}]
    assert (stats["calls_mapped"], stats["calls_failed"], stats["calls_denied"]) == (2, 2, 1)


def test_a_group_counts_as_many_calls(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", time_ms=10), count=5, last_ms=90)
    usage = aggregator.workloads["app"].usage[("S3", "GetObject")]
    assert (usage.calls, usage.first_seen_ms, usage.last_seen_ms) == (5, 10, 90)
    assert aggregator.stats.calls == 5


def test_dependent_actions_are_marked_and_observed_wins(aggregator: Aggregator) -> None:
    aggregator.add(observed("SNS", "CreateTopic"))  # a delivery-status role is optional
    assert actions_of(aggregator)["iam:PassRole"] == DEPENDENT
    aggregator.add(observed("IAM", "PassRole"))  # not an API: stays unmapped, changes nothing
    assert actions_of(aggregator)["iam:PassRole"] == DEPENDENT
    aggregator.add(observed("Lambda", "CreateFunction"))  # Role is required: PassRole is observed
    assert actions_of(aggregator)["iam:PassRole"] == OBSERVED


def test_fails_only_learns_only_from_failed_calls(action_map: ActionMap) -> None:
    aggregator = Aggregator(action_map, fails_only=True)
    aggregator.add(observed("S3", "ListBuckets"))
    assert actions_of(aggregator) == {}
    aggregator.add(observed("S3", "ListBuckets", outcome=DENIED, error_code="AccessDenied"))
    assert actions_of(aggregator) == {"s3:ListAllMyBuckets": OBSERVED}


def test_a_denial_adds_the_action_its_message_names(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject", outcome=DENIED, denied_actions=("kms:Decrypt",)))
    assert granted_for_every_call(aggregator) == {"s3:GetObject": OBSERVED, "kms:Decrypt": DENIED_MESSAGE}


def test_a_denial_naming_no_real_action_adds_nothing(aggregator: Aggregator) -> None:
    aggregator.add(observed("IAM", "ListUsers", outcome=DENIED, denied_actions=("iam:BecomeRoot",)))
    assert actions_of(aggregator) == {"iam:ListUsers": OBSERVED}


def test_scopes_are_kept_per_operation(aggregator: Aggregator) -> None:
    bucket = ("arn:aws:s3:::reports",)
    aggregator.add(observed("S3", "GetObject", region="eu-west-1", account="123456789012", resources=bucket))
    aggregator.add(observed("S3", "GetObject", region="eu-west-1", account="123456789012", resources=bucket))
    aggregator.add(observed("S3", "GetObject", region="eu-west-1"))
    usage = aggregator.workloads["app"].usage[("S3", "GetObject")]
    assert list(usage.scopes) == [("eu-west-1", "123456789012", bucket), ("eu-west-1", None, ())]


def test_request_members_are_remembered_by_name(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "PutObject", request_members=frozenset({"Tagging"})))
    version = aggregator.workloads["app"].version
    aggregator.add(observed("S3", "PutObject", request_members=frozenset({"Tagging"})))
    assert aggregator.workloads["app"].version == version
    aggregator.add(observed("S3", "PutObject", request_members=frozenset({"ACL"})))
    assert aggregator.workloads["app"].usage[("S3", "PutObject")].members == {"Tagging", "ACL"}
    assert aggregator.workloads["app"].version > version


def test_notices_report_new_actions_once(aggregator: Aggregator) -> None:
    for _ in range(3):
        for operation in ("GetObject", "HeadObject", "Teleport"):
            aggregator.add(observed("S3", operation))
    notices = [n for n in aggregator.take_notices() if n.kind != DEPENDENT]
    assert [(n.action, n.kind) for n in notices] == [("s3:GetObject", OBSERVED), (None, "unmapped")]
    assert aggregator.take_notices() == []


def test_version_changes_only_when_the_policy_may_change_and_revision_always(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject"))
    workload = aggregator.workloads["app"]
    version, revision = workload.version, workload.revision
    aggregator.add(observed("S3", "GetObject"))
    assert workload.version == version and workload.revision > revision
    aggregator.add(observed("S3", "PutObject"))
    assert workload.version > version


def test_limits_drop_and_count(action_map: ActionMap) -> None:
    aggregator = Aggregator(action_map, limits=Limits(max_workloads=1, max_calls_per_workload=1))
    assert aggregator.add(observed("S3", "GetObject"))
    assert not aggregator.add(observed("S3", "PutObject"))
    assert not aggregator.add(observed("S3", "GetObject", workload="other"))
    assert aggregator.stats.dropped == {"call_limit": 1, "workload_limit": 1}
    assert set(aggregator.workloads) == {"app"}


def test_over_the_scope_limit_a_call_still_counts_without_its_resources(action_map: ActionMap) -> None:
    aggregator = Aggregator(action_map, limits=Limits(max_scopes_per_call=2))
    for bucket in ("a", "b", "c", "d"):
        aggregator.add(observed("S3", "GetObject", region="us-east-1", resources=(f"arn:aws:s3:::{bucket}",)))
    usage = aggregator.workloads["app"].usage[("S3", "GetObject")]
    assert usage.calls == 4
    assert list(usage.scopes)[-1] == ("us-east-1", None, ())
    assert len(usage.scopes) == 3 and aggregator.stats.dropped == {"resource_limit": 2}


def test_identities_cache_is_bounded_and_rebuilt(action_map: ActionMap) -> None:
    aggregator = Aggregator(action_map, limits=Limits(max_cached_identities=2))
    for operation in ("GetObject", "PutObject", "ListBuckets", "GetObject"):
        aggregator.add(observed("S3", operation))
    assert aggregator.workloads["app"].usage[("S3", "GetObject")].calls == 2


def test_an_action_the_request_asked_for_is_learned_as_granted_not_listed(aggregator: Aggregator) -> None:
    """The live view and the policy agree: a proxy request that set `Tagging` is granted s3:PutObjectTagging,
    so the live view says `+` (learned), never `~ ... not granted`."""
    from collector_runtime.core.policy import PolicyBuilder, PolicyOptions

    aggregator.add(observed("S3", "PutObject", source=PROXY, request_members=frozenset({"Tagging"})))
    notices = {n.action: n.kind for n in aggregator.take_notices()}
    assert notices["s3:PutObjectTagging"] == OBSERVED
    assert notices["s3:PutObjectAcl"] == DEPENDENT  # no request set ACL (or a Grant*): listed, not granted
    # a later request sets ACL: its action is learned then, with its own notice
    aggregator.add(observed("S3", "PutObject", source=PROXY, request_members=frozenset({"ACL"})))
    assert [(n.action, n.kind) for n in aggregator.take_notices()] == [("s3:PutObjectAcl", OBSERVED)]
    workload = aggregator.workloads["app"]
    grants = PolicyBuilder(aggregator.action_map, PolicyOptions()).grants(workload)
    listed = {action for action, origin in workload.actions.items() if origin.kind == DEPENDENT}
    assert listed == {note.action for note in grants.may_need}
    assert not listed & set(grants.observed)


def test_workloads_share_one_copy_of_each_operation_key_and_action_origin(action_map: ActionMap) -> None:
    """A thousand workloads calling the same operations keep one key and one origin per operation, not one each
    (issue 21's memory goal)."""
    aggregator = Aggregator(action_map)
    for name in ("a", "b"):
        aggregator.add(observed("SQS", "SendMessage", workload=name))
    first, second = aggregator.workloads["a"], aggregator.workloads["b"]
    assert list(first.usage) == list(second.usage) == [("SQS", "SendMessage")]
    assert next(iter(first.usage)) is next(iter(second.usage))
    assert first.actions == second.actions and first.actions["sqs:SendMessage"] is second.actions["sqs:SendMessage"]
