"""Identifiers a request or span names, as ARNs (the proxy and OTLP sources' resources)."""

from __future__ import annotations

import pytest

from collector_runtime.core.identifier_arns import copy_source, other_resources, queue_arn, resource_arns
from collector_runtime.core.mapping import ActionMap

ACCOUNT = "123456789012"


@pytest.mark.parametrize(
    ("service", "identifiers", "arns"),
    [
        ("S3", {"Bucket": "b", "Key": "k/1"}, ("arn:aws:s3:::b", "arn:aws:s3:::b/k/1")),
        ("DynamoDB", {"TableName": "orders"}, (f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders",)),
        ("SSM", {"Name": "/app/db"}, (f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/db",)),
        (
            "Secrets Manager",
            {"SecretId": "prod/db"},
            (f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db-??????",),
        ),
        (  # CreateSecret names it Name
            "Secrets Manager",
            {"Name": "prod/db"},
            (f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:prod/db-??????",),
        ),
        ("KMS", {"KeyId": "alias/app"}, (f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/app",)),
        ("Lambda", {"FunctionName": "f"}, (f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f",)),
        (
            "CloudWatch Logs",
            {"logGroupName": "/aws/lambda/f"},
            (f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/f",),
        ),
        ("Kinesis", {"StreamName": "s"}, (f"arn:aws:kinesis:eu-west-1:{ACCOUNT}:stream/s",)),
        ("SNS", {"TopicArn": "arn:aws:sns:us-east-1:210987654321:t"}, ("arn:aws:sns:us-east-1:210987654321:t",)),
        ("SNS", {"Name": "alerts"}, (f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts",)),  # CreateTopic names it Name
        (
            "SQS",
            {"QueueUrl": "https://sqs.us-west-2.amazonaws.com/210987654321/jobs"},
            ("arn:aws:sqs:us-west-2:210987654321:jobs",),
        ),
    ],
)
def test_identifiers_become_arns(
    action_map: ActionMap, service: str, identifiers: dict[str, str], arns: tuple[str, ...]
) -> None:
    formats = action_map.formats_of(action_map.prefix_of(service) or "")
    assert resource_arns(formats, identifiers, region="eu-west-1", account=ACCOUNT) == arns


def test_an_unknown_account_or_region_stays_a_wildcard(action_map: ActionMap) -> None:
    formats = action_map.formats_of("dynamodb")
    assert resource_arns(formats, {"TableName": "t"}, region=None, account=None) == ("arn:aws:dynamodb:*:*:table/t",)


def test_names_that_bind_no_format_give_nothing(action_map: ActionMap) -> None:
    assert (
        resource_arns(
            action_map.formats_of("dynamodb"), {"Select": "ALL", "": "x"}, region="eu-west-1", account=ACCOUNT
        )
        == ()
    )


@pytest.mark.parametrize(
    ("prefix", "identifiers", "arns"),
    [
        ("cloudformation", {"StackName": "app"}, ("stack/app/*",)),
        ("cloudformation", {"StackName": "app", "ChangeSetName": "cs"}, ("changeSet/cs/*", "stack/app/*")),
        ("eks", {"ClusterName": "c", "NodegroupName": "ng"}, ("cluster/c", "nodegroup/c/ng/*")),
        ("xray", {"GroupName": "g"}, ("group/g/*",)),
        ("elasticloadbalancing", {"TargetGroupName": "web"}, ("targetgroup/web/*",)),  # ${TargetGroupId}
        ("autoscaling", {"AutoScalingGroupName": "web"}, ("autoScalingGroup:*:autoScalingGroupName/web",)),
        ("backup", {"FrameworkName": "audit"}, ("framework:audit-*",)),
    ],
)
def test_the_id_aws_gives_a_named_resource_is_any(
    action_map: ActionMap, prefix: str, identifiers: dict[str, str], arns: tuple[str, ...]
) -> None:
    """A stack is `stack/${StackName}/${Id}`: the Id is AWS's, no request names it; with the name alone the
    format was never filled and the call was granted every stack (`stack/*/*`)."""
    found = resource_arns(action_map.formats_of(prefix), identifiers, region="eu-west-1", account=ACCOUNT)
    assert sorted(found) == sorted(f"arn:aws:{prefix}:eu-west-1:{ACCOUNT}:{arn}" for arn in arns)


@pytest.mark.parametrize(
    ("prefix", "identifiers", "arns"),
    [
        ("route53", {"HostedZoneId": "Z123"}, ("arn:aws:route53:::hostedzone/Z123",)),
        ("shield", {"ProtectionId": "p-1"}, (f"arn:aws:shield::{ACCOUNT}:protection/p-1",)),
        ("route53", {"HostedZone": "Z123", "TrafficPolicyInstanceName": "x"}, ()),  # no `<Type>Id`
    ],
)
def test_a_types_id_names_its_resource_where_the_arn_calls_it_id(
    action_map: ActionMap, prefix: str, identifiers: dict[str, str], arns: tuple[str, ...]
) -> None:
    """Route 53's formats all name their resource `${Id}`: `HostedZoneId` is the hosted zone's, no other's."""
    assert resource_arns(action_map.formats_of(prefix), identifiers, region="eu-west-1", account=ACCOUNT) == arns


def test_a_format_with_another_unread_name_stays_unfilled(action_map: ActionMap) -> None:
    """ECS's `task/${ClusterName}/${TaskId}` names a task: a cluster alone names no task of it."""
    found = resource_arns(action_map.formats_of("ecs"), {"cluster": "prod"}, region="eu-west-1", account=ACCOUNT)
    assert found == (f"arn:aws:ecs:eu-west-1:{ACCOUNT}:cluster/prod",)


@pytest.mark.parametrize(
    ("identifiers", "arns"),
    [
        (
            {"ResourceType": "Parameter", "ResourceId": "/app/db"},
            (f"arn:aws:ssm:eu-west-1:{ACCOUNT}:parameter/app/db",),
        ),
        (
            {"ResourceType": "MaintenanceWindow", "ResourceId": "mw-1"},
            (f"arn:aws:ssm:eu-west-1:{ACCOUNT}:maintenancewindow/mw-1",),
        ),
        (
            {"ResourceType": "ManagedInstance", "ResourceId": "mi-1"},
            (f"arn:aws:ssm:eu-west-1:{ACCOUNT}:managed-instance/mi-1",),
        ),
        ({"ResourceType": "Automation", "ResourceId": "e-1"}, ()),  # no type of that name: nothing, never another
    ],
)
def test_a_resource_type_names_the_format_its_resource_id_fills(
    action_map: ActionMap, identifiers: dict[str, str], arns: tuple[str, ...]
) -> None:
    found = resource_arns(action_map.formats_of("ssm"), identifiers, region="eu-west-1", account=ACCOUNT)
    assert found == arns


@pytest.mark.parametrize(
    ("url", "arn"),
    [
        ("https://sqs.eu-west-1.amazonaws.com/123456789012/q", "arn:aws:sqs:eu-west-1:123456789012:q"),
        ("https://eu-west-1.queue.amazonaws.com/123456789012/q", "arn:aws:sqs:eu-west-1:123456789012:q"),
        ("https://queue.amazonaws.com/123456789012/q", "arn:aws:sqs:us-east-1:123456789012:q"),
        ("https://sqs.cn-north-1.amazonaws.com.cn/123456789012/q", "arn:aws-cn:sqs:cn-north-1:123456789012:q"),
        ("https://example.com/123456789012/q", None),
    ],
)
def test_queue_urls(url: str, arn: str | None) -> None:
    assert queue_arn(url) == arn


@pytest.mark.parametrize(
    ("url", "region", "arn"),
    [
        ("http://127.0.0.1:5000/123456789012/jobs", "eu-west-1", "arn:aws:sqs:eu-west-1:123456789012:jobs"),
        ("http://localhost:4566/000000000000/q.fifo", "cn-north-1", "arn:aws-cn:sqs:cn-north-1:000000000000:q.fifo"),
        ("http://127.0.0.1:5000/123456789012/jobs", None, None),  # another host: only in the call's region
        ("https://sqs.us-west-2.amazonaws.com/210987654321/q", "eu-west-1", "arn:aws:sqs:us-west-2:210987654321:q"),
        ("http://127.0.0.1:5000/123456789012/jobs?Action=x", "eu-west-1", None),
        ("https://user:pw@example.com/123456789012/jobs", "eu-west-1", None),
        ("http://127.0.0.1:5000/12345/jobs", "eu-west-1", None),
    ],
)
def test_queue_urls_of_endpoint_overrides(url: str, region: str | None, arn: str | None) -> None:
    assert queue_arn(url, region=region) == arn


ARABIC_DIGITS = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"  # 12 digits, not 0-9


@pytest.mark.parametrize(
    "url",
    [
        "https://sqs.us-east-1.amazonaws.com/123456789012/*",  # a wildcard would be every queue of the account
        "https://sqs.us-east-1.amazonaws.com/123456789012/a b",
        "https://sqs.us-east-1.amazonaws.com/123456789012/" + "q" * 81,
        f"https://sqs.us-east-1.amazonaws.com/{ARABIC_DIGITS}/q",
        f"http://127.0.0.1:5000/{ARABIC_DIGITS}/q",
    ],
)
def test_a_queue_url_that_names_no_queue_names_no_resource(url: str) -> None:
    # one rule for a queue URL on any host: the same the OTLP source checks before it keeps one
    assert resource_arns({}, {"QueueUrl": url}, region="eu-west-1", account=ACCOUNT) == ()


def test_a_queue_url_with_a_trailing_slash_is_in_its_own_region() -> None:
    url = "https://sqs.us-west-2.amazonaws.com/210987654321/q/"
    assert queue_arn(url, region="eu-west-1") == "arn:aws:sqs:us-west-2:210987654321:q"


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("src/a%20b/%C3%BC?versionId=v1", ("arn:aws:s3:::src/a b/ü", True)),
        ("/src/k", ("arn:aws:s3:::src/k", False)),
        ("src/k?versionId=", ("arn:aws:s3:::src/k", False)),
        (
            "arn%3Aaws%3As3%3Aeu-west-1%3A123456789012%3Aaccesspoint%2Fap%2Fobject%2Fk",
            ("arn:aws:s3:eu-west-1:123456789012:accesspoint/ap/object/k", False),
        ),
    ],
)
def test_a_copy_source_names_the_object_read(header: str, expected: tuple[str, bool]) -> None:
    assert copy_source(header, "eu-west-1") == expected


@pytest.mark.parametrize("header", ["", "/", "src", "src/", "B/k", "arn:aws:s3:::b", "x" * 5000, "%ZZ/%"])
def test_a_copy_source_that_names_no_object_is_refused(header: str) -> None:
    assert copy_source(header, None) is None


def test_a_copy_source_is_the_resource_of_the_actions_on_another_resource() -> None:
    arns = resource_arns({}, {"CopySource": "src/k"}, region="eu-west-1", account=ACCOUNT)
    assert other_resources(arns) == ("arn:aws:s3:::src/k",)


@pytest.mark.parametrize("order", [["botName", "name"], ["name", "botName"]])
def test_a_generic_name_binds_only_what_no_specific_member_did(action_map: ActionMap, order: list[str]) -> None:
    """Lex GetBotChannelAssociation: `botName` is the bot, `name` the channel's; whichever comes first."""
    values = {"botName": "OrderBot", "name": "slack", "botVersion": "1"}
    identifiers = {member: values[member] for member in [*order, "botVersion"]}
    arns = resource_arns(action_map.formats_of("lex"), identifiers, region="eu-west-1", account=ACCOUNT, own="BotName")
    assert f"arn:aws:lex:eu-west-1:{ACCOUNT}:bot:OrderBot:1" in arns
    assert not [arn for arn in arns if "slack" in arn]


def test_an_unread_name_marks_the_types_it_could_name_and_only_those(action_map: ActionMap) -> None:
    from collector_runtime.core.identifier_arns import unread_types
    from collector_runtime.core.scoping import Scoper, explain_scope

    formats = action_map.formats_of("ec2")
    marks = unread_types("ec2", formats, {"LaunchTemplateId", "Version", "Description"})
    assert marks == ("unread:ec2/launch-template",)
    assert unread_types("ec2", formats, {"Description", "Tags"}) == ()
    scope = ("eu-west-1", "123456789012", ("arn:aws:ec2:eu-west-1:123456789012:subnet/subnet-1", *marks))
    patterns = Scoper(action_map).patterns("ec2:RunInstances", scope)
    assert "arn:aws:ec2:eu-west-1:123456789012:launch-template/*" in patterns
    assert not any("capacity-reservation" in p or "placement-group" in p for p in patterns)
    explained = explain_scope(Scoper(action_map), "ec2:RunInstances", scope)
    assert "what may name a ec2/launch-template, unread" in explained[1]


def test_a_type_marked_unread_is_granted_whole_even_beside_one_of_its_resources_named(action_map: ActionMap) -> None:
    """EMR RunJobFlow's service role by ARN beside an instance profile's role the request did not name: the
    named role alone would deny the other."""
    from collector_runtime.core.scoping import Scoper

    role = "arn:aws:iam::123456789012:role/EMR_DefaultRole"
    named_only = Scoper(action_map).patterns("iam:PassRole", ("eu-west-1", "123456789012", (role,)))
    assert named_only == frozenset({role})
    marked = Scoper(action_map).patterns("iam:PassRole", ("eu-west-1", "123456789012", (role, "unread:iam/role")))
    assert marked == frozenset({"arn:aws:iam::123456789012:role/*"})


def test_the_names_inside_a_requests_structures_are_bounded_and_end_on_recursive_shapes() -> None:
    import botocore.session

    from collector_runtime.sources.proxy.nested_names import MAX_NAMES, nested_names, unread_names

    ec2 = botocore.session.get_session().get_service_model("ec2")
    inside = nested_names(ec2.operation_model("RunInstances"))
    assert {"LaunchTemplateId", "LaunchTemplateName"} <= inside["LaunchTemplate"]
    assert "SnapshotId" in inside["BlockDeviceMappings"] and "ImageId" not in inside
    assert "SecurityGroupId" in inside["NetworkInterfaces"]  # a list of strings by its element's shape name
    assert unread_names(ec2.operation_model("RunInstances"), frozenset({"ImageId"})) == frozenset()
    glue = botocore.session.get_session().get_service_model("glue")  # recursive shapes (a column's type)
    for operation in glue.operation_names:
        assert all(len(names) <= MAX_NAMES + 2 for names in nested_names(glue.operation_model(operation)).values())
