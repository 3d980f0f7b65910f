"""A name with `*`, `?` or `$` is granted as that name, never as a wildcard or a policy variable: through real
botocore requests recorded by the proxy's CallRecorder, an OTLP span, an AccessDenied message, and the
policy under the IAM evaluator of tests/oracle (it reads `${*}`, `${?}` and `${$}` as IAM does)."""

from __future__ import annotations

from typing import Any

import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy import PolicyBuilder, PolicyOptions
from collector_runtime.core.records import ObservedCall
from collector_runtime.data import load_action_map
from collector_runtime.sources.otlp import decode_export, observed_calls
from collector_runtime.sources.proxy.calls import CallRecorder
from collector_runtime.sources.proxy.responses import read_response
from collector_runtime.sources.proxy.service_models import ServiceModels
from tests.oracle import Request, assert_policy_allows, assert_policy_denies
from tests.otlp_builders import MAX_BYTES, PROTOBUF, body, export, span
from tests.proxy_requests import ACCOUNT
from tests.sources.test_proxy_precision import OK, granted, sent

TOPIC_ANY = f"arn:aws:sns:eu-west-1:{ACCOUNT}:*"


@pytest.fixture
def recorder(action_map: ActionMap) -> CallRecorder:
    return CallRecorder(ServiceModels(), action_map)


def get_object(recorder: CallRecorder, session: Any, key: str) -> ObservedCall:
    return recorder.record(sent(session, "s3", "GetObject", {"Bucket": "b", "Key": key}), "app", OK)


@pytest.mark.parametrize(
    ("key", "resource"),
    [
        ("reports/*.csv", "arn:aws:s3:::b/reports/${*}.csv"),
        ("a?b", "arn:aws:s3:::b/a${?}b"),
        ("${aws:username}", "arn:aws:s3:::b/${$}{aws:username}"),
        ("price$*?", "arn:aws:s3:::b/price${$}${*}${?}"),
    ],
)
def test_an_s3_key_is_granted_as_its_literal_name(
    recorder: CallRecorder, session: Any, action_map: ActionMap, key: str, resource: str
) -> None:
    assert granted(action_map, [get_object(recorder, session, key)])["s3:GetObject"] == [resource]


def test_a_topic_arn_with_a_star_is_that_one_topic_not_every_topic(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """AWS refuses the request, but a failed call still counts towards the policy."""
    request = sent(session, "sns", "Publish", {"TopicArn": TOPIC_ANY, "Message": "m"})
    call = recorder.record(request, "app", read_response(400, {}, b"<Code>InvalidParameter</Code>"))
    assert granted(action_map, [call])["sns:Publish"] == [f"arn:aws:sns:eu-west-1:{ACCOUNT}:${{*}}"]


def test_a_table_name_with_a_star_is_that_one_table(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    request = sent(session, "dynamodb", "GetItem", {"TableName": "t*", "Key": {"k": {"S": "v"}}})
    found = granted(action_map, [recorder.record(request, "app", OK)])
    assert found["dynamodb:GetItem"] == [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/t${{*}}"]


def test_generalization_keeps_a_literal_name_literal(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """Generalization on (the default): the name is not made a pattern by its `*`, and a volatile part after
    it is cut as in any other key."""
    calls = [get_object(recorder, session, key) for key in ("in/*/2026-12-06/a.csv", "x*y")]
    aggregator = Aggregator(action_map)
    for call in calls:
        aggregator.add(call)
    builder = PolicyBuilder(action_map, PolicyOptions())
    grants = builder.grants(aggregator.workloads["app"])
    assert sorted(grants.observed["s3:GetObject"]) == ["arn:aws:s3:::b/in/${*}/*", "arn:aws:s3:::b/x${*}y"]


def test_a_resource_an_access_denied_names_is_literal(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    message = b"User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform: s3:GetObject"
    message += b" on resource: arn:aws:s3:::b/reports/*.csv because no identity-based policy allows it"
    denied = read_response(403, {}, b"<Error><Code>AccessDenied</Code><Message>" + message + b"</Message></Error>")
    assert denied.denied_resources == ("arn:aws:s3:::b/reports/${*}.csv",)
    call = recorder.record(sent(session, "s3", "GetObject", {"Bucket": "b", "Key": "reports/*.csv"}), "app", denied)
    assert call.resources == ("arn:aws:s3:::b", "arn:aws:s3:::b/reports/${*}.csv")


def test_an_otlp_arn_attribute_with_a_star_names_one_topic() -> None:
    data = body(export(span("SNS", "Publish", aws__sns__topic__arn=TOPIC_ANY)))
    [call] = observed_calls(decode_export(data, PROTOBUF, None, max_bytes=MAX_BYTES), load_action_map())
    assert call.resources == (f"arn:aws:sns:eu-west-1:{ACCOUNT}:${{*}}",)


@pytest.mark.timeout(120)
def test_the_iam_evaluator_allows_the_literal_names_and_denies_the_others(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """iam-simulate reads `${*}`, `${?}`, `${$}` in a policy as IAM does; a request's resource with a `*` it
    takes for a pattern (it refuses that), so the literal `reports/*.csv` and the topic `*` are asked for by
    the names they must not grant (their exact grants are checked above)."""
    keys = ("reports/*.csv", "a?b", "${aws:username}")
    aggregator = Aggregator(action_map)
    for key in keys:
        aggregator.add(get_object(recorder, session, key))
    aggregator.add(recorder.record(sent(session, "sns", "Publish", {"TopicArn": TOPIC_ANY, "Message": "m"}), "app", OK))
    context = {"aws:username": "alice"}

    def get(key: str) -> Request:
        return Request("s3:GetObject", f"arn:aws:s3:::b/{key}", account=ACCOUNT, context=context)

    for options in (PolicyOptions(exact_names=True), PolicyOptions()):
        builder = PolicyBuilder(action_map, options)
        policy = builder.document(builder.grants(aggregator.workloads["app"]))
        assert_policy_allows(policy, [get("a?b"), get("${aws:username}")])
        others = [get(key) for key in ("reports/other.csv", "reports/.csv", "axb", "alice", "a?bc")]
        topic = Request("sns:Publish", f"arn:aws:sns:eu-west-1:{ACCOUNT}:other", account=ACCOUNT)
        assert_policy_denies(policy, [*others, topic])
