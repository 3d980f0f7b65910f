from __future__ import annotations

from collector_runtime.core.aggregate import DENIED_MESSAGE, DEPENDENT, OBSERVED, Aggregator
from collector_runtime.core.mapping import ActionMap
from tests.conftest import attempt, call, datagram


def actions_of(aggregator: Aggregator, workload: str = "app") -> dict[str, str]:
    return {action: origin.kind for action, origin in aggregator.workloads[workload].actions.items()}


def granted_for_every_call(aggregator: Aggregator, workload: str = "app") -> dict[str, str]:
    """The actions that are not request-dependent (GetItem may also need dynamodb:ReadDataForReplication)."""
    return {action: kind for action, kind in actions_of(aggregator, workload).items() if kind != DEPENDENT}


def test_api_calls_build_the_workload_actions(aggregator: Aggregator) -> None:
    aggregator.ingest(datagram(attempt("S3", "ListBuckets"), call("S3", "ListBuckets")))
    aggregator.ingest(datagram(call("DynamoDB", "GetItem")))
    assert granted_for_every_call(aggregator) == {"s3:ListAllMyBuckets": OBSERVED, "dynamodb:GetItem": OBSERVED}


def test_attempts_are_counted_but_not_double_counted_as_calls(aggregator: Aggregator) -> None:
    aggregator.ingest(
        datagram(attempt("S3", "GetObject"), attempt("S3", "GetObject"), call("S3", "GetObject", AttemptCount=2))
    )
    stats = aggregator.stats
    assert (stats.api_call_events, stats.api_call_attempt_events, stats.events_parsed) == (1, 2, 3)
    assert aggregator.workloads["app"].usage[("S3", "GetObject")].calls == 1


def test_workloads_are_keyed_by_client_id_and_empty_is_default(aggregator: Aggregator) -> None:
    aggregator.ingest(datagram(call("S3", "ListBuckets", client_id="")))
    aggregator.ingest(datagram(call("SQS", "ListQueues", client_id="worker")))
    assert set(aggregator.workloads) == {"default", "worker"}
    assert actions_of(aggregator, "worker") == {"sqs:ListQueues": OBSERVED}


def test_counters(aggregator: Aggregator) -> None:
    aggregator.ingest(b"garbage")
    aggregator.ingest(datagram(call("S3", "GetObject", Type="Metric"), attempt("S3", "GetObject", Service={"a": 1})))
    aggregator.ingest(datagram(call("STS", "GetCallerIdentity")))
    aggregator.ingest(datagram(call("S3", "Teleport")))
    aggregator.ingest(datagram(call("S3", "Teleport")))
    aggregator.ingest(datagram(call("S3", "GetObject", FinalHttpStatusCode=403, FinalAwsException="AccessDenied")))
    stats = aggregator.stats.as_dict()
    assert stats["datagrams_received"] == 6
    assert stats["events_rejected"] == 3 and stats["rejected_reasons"] == {"not_json": 1, "invalid_fields": 2}
    assert stats["calls_permissionless"] == 1
    assert stats["calls_unmapped"] == 2
    assert stats["unmapped_calls"] == [{"service": "S3", "api": "Teleport", "calls": 2}]
    assert (stats["calls_mapped"], stats["calls_failed"], stats["calls_denied"]) == (1, 1, 1)


def test_dependent_actions_are_marked_and_observed_wins(aggregator: Aggregator) -> None:
    aggregator.ingest(datagram(call("SNS", "CreateTopic")))  # a delivery-status role is optional
    assert actions_of(aggregator)["iam:PassRole"] == DEPENDENT
    aggregator.ingest(datagram(call("IAM", "PassRole")))  # not an API: stays unmapped, changes nothing
    assert actions_of(aggregator)["iam:PassRole"] == DEPENDENT
    aggregator.ingest(datagram(call("Lambda", "CreateFunction")))  # Role is required: PassRole is observed
    assert actions_of(aggregator)["iam:PassRole"] == OBSERVED
    aggregator.ingest(datagram(call("Lambda", "InvokeAsync")))
    aggregator.ingest(datagram(call("Lambda", "PassCapacityProvider")))  # unknown operation
    assert actions_of(aggregator)["lambda:PassCapacityProvider"] == DEPENDENT


def test_fails_only_learns_only_from_failed_calls(action_map: ActionMap) -> None:
    aggregator = Aggregator(action_map, fails_only=True)
    aggregator.ingest(datagram(call("S3", "ListBuckets")))
    assert actions_of(aggregator) == {}
    aggregator.ingest(datagram(call("S3", "ListBuckets", FinalHttpStatusCode=403, FinalAwsException="AccessDenied")))
    assert actions_of(aggregator) == {"s3:ListAllMyBuckets": OBSERVED}


def test_access_denied_message_adds_the_named_action(aggregator: Aggregator) -> None:
    message = "User: arn:aws:iam::123456789012:user/x is not authorized to perform: kms:Decrypt on resource: key"
    aggregator.ingest(
        datagram(
            call(
                "S3",
                "GetObject",
                FinalHttpStatusCode=403,
                FinalAwsException="AccessDenied",
                FinalAwsExceptionMessage=message,
            )
        )
    )
    assert granted_for_every_call(aggregator) == {"s3:GetObject": OBSERVED, "kms:Decrypt": DENIED_MESSAGE}


def test_access_denied_message_naming_no_real_action_adds_nothing(aggregator: Aggregator) -> None:
    message = "is not authorized to perform: iam:BecomeRoot on resource"
    aggregator.ingest(
        datagram(call("IAM", "ListUsers", FinalAwsException="AccessDenied", FinalAwsExceptionMessage=message))
    )
    assert actions_of(aggregator) == {"iam:ListUsers": OBSERVED}


def test_s3_buckets_come_from_attempts(aggregator: Aggregator) -> None:
    aggregator.ingest(
        datagram(attempt("S3", "GetObject", Fqdn="reports.s3.eu-west-1.amazonaws.com", Region="eu-west-1"))
    )
    aggregator.ingest(datagram(attempt("S3", "ListObjectsV2", Fqdn="s3.amazonaws.com")))
    buckets = aggregator.workloads["app"].s3_buckets
    assert buckets == {"GetObject": {"arn:aws:s3:::reports"}, "ListObjectsV2": {"*"}}


def test_notices_report_new_actions_once(aggregator: Aggregator) -> None:
    for _ in range(3):
        aggregator.ingest(datagram(call("S3", "GetObject"), call("S3", "HeadObject"), call("S3", "Teleport")))
    notices = [n for n in aggregator.take_notices() if n.kind != DEPENDENT]
    assert [(n.action, n.kind) for n in notices] == [("s3:GetObject", OBSERVED), (None, "unmapped")]
    assert aggregator.take_notices() == []


def test_version_changes_only_when_the_policy_may_change(aggregator: Aggregator) -> None:
    aggregator.ingest(datagram(call("S3", "GetObject")))
    version = aggregator.workloads["app"].version
    aggregator.ingest(datagram(call("S3", "GetObject")))
    assert aggregator.workloads["app"].version == version
    aggregator.ingest(datagram(call("S3", "PutObject")))
    assert aggregator.workloads["app"].version > version
