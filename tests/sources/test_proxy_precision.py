"""Never wider because a name was unread: the names a request carries (headers included) and its response
names, through real botocore requests (captured, never sent) recorded by the proxy's CallRecorder."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import botocore.session
import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy import PolicyBuilder, PolicyOptions
from collector_runtime.sources.proxy.calls import CallRecorder
from collector_runtime.sources.proxy.matcher import MatchedCall, match_request
from collector_runtime.sources.proxy.request import HttpRequest
from collector_runtime.sources.proxy.responses import read_response
from collector_runtime.sources.proxy.service_models import ServiceModels
from tests.oracle import Request, assert_policy_allows, assert_policy_denies
from tests.proxy_requests import (
    ACCOUNT,
    assert_the_deployment_is_granted,
    capturing_client,
    inline_deployment,
    request_of,
)

OK = read_response(200, {}, b"")
KEY_ID = "1234abcd-12ab-34cd-56ef-1234567890ab"


@pytest.fixture
def recorder(action_map: ActionMap) -> CallRecorder:
    return CallRecorder(ServiceModels(), action_map)


def sent(session: Any, service: str, operation: str, params: dict[str, Any]) -> HttpRequest:
    with capturing_client(session, service) as client:
        return request_of(client, operation, params)


def granted(action_map: ActionMap, calls: list[Any], workload: str = "app") -> dict[str, Any]:
    """action -> its sorted resources, for the calls as one workload's (the names read, not generalized)."""
    aggregator = Aggregator(action_map)
    for call in calls:
        aggregator.add(call)
    builder = PolicyBuilder(action_map, PolicyOptions(exact_names=True))
    grants = builder.grants(aggregator.workloads[workload])
    return {action: sorted(resources) for action, resources in grants.observed.items()}


def policy_of(recorder: CallRecorder, action_map: ActionMap, request: HttpRequest) -> tuple[dict[str, Any], str]:
    """The policy one recorded request gives its workload (as written, generalized), and its first action."""
    call = recorder.record(request, "app", OK)
    aggregator = Aggregator(action_map)
    aggregator.add(call)
    builder = PolicyBuilder(action_map, PolicyOptions())
    return builder.document(builder.grants(aggregator.workloads["app"])), action_map.lookup(
        call.service, call.operation
    ).actions[0]


def json_response(document: dict[str, Any]) -> Any:
    return read_response(200, {"content-type": "application/x-amz-json-1.1"}, json.dumps(document).encode())


def test_copy_object_reads_its_source_from_the_copy_source_header(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    params = {"Bucket": "dst", "Key": "out/1", "CopySource": {"Bucket": "src", "Key": "in put/ü 1"}}
    call = recorder.record(sent(session, "s3", "CopyObject", params), "app", OK)
    found = granted(action_map, [call])
    assert found["s3:GetObject"] == ["arn:aws:s3:::src/in put/ü 1"]
    assert found["s3:PutObject"] == ["arn:aws:s3:::dst/out/1"]
    assert "s3:GetObjectVersion" not in found


def test_a_copy_source_version_needs_get_object_version_on_that_object(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    params = {"Bucket": "dst", "Key": "o", "CopySource": {"Bucket": "src", "Key": "k", "VersionId": "v1"}}
    call = recorder.record(sent(session, "s3", "CopyObject", params), "app", OK)
    found = granted(action_map, [call])
    assert found["s3:GetObjectVersion"] == ["arn:aws:s3:::src/k"]
    assert found["s3:GetObject"] == ["arn:aws:s3:::src/k"]


def test_upload_part_copy_from_an_access_point(recorder: CallRecorder, session: Any, action_map: ActionMap) -> None:
    source = f"arn:aws:s3:eu-west-1:{ACCOUNT}:accesspoint/ap1/object/data/x.csv"
    params = {"Bucket": "dst", "Key": "o", "UploadId": "u", "PartNumber": 1, "CopySource": source}
    call = recorder.record(sent(session, "s3", "UploadPartCopy", params), "app", OK)
    found = granted(action_map, [call])
    assert found["s3:GetObject"] == [source]
    assert found["s3:PutObject"] == ["arn:aws:s3:::dst/o"]


def test_create_calls_are_granted_on_the_resource_they_name(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/r"
    machine = sent(
        session, "stepfunctions", "CreateStateMachine", {"name": "flow", "definition": "{}", "roleArn": role}
    )
    alias = sent(session, "kms", "CreateAlias", {"AliasName": "alias/app", "TargetKeyId": KEY_ID})
    found = granted(action_map, [recorder.record(machine, "app", OK), recorder.record(alias, "app", OK)])
    assert found["states:CreateStateMachine"] == [f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:flow"]
    assert found["kms:CreateAlias"] == [
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:alias/app",
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}",
    ]


def test_a_kms_call_by_alias_is_granted_on_the_key_its_response_names(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    key_arn = f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/{KEY_ID}"
    request = sent(session, "kms", "Encrypt", {"KeyId": "alias/app", "Plaintext": b"SECRET-PLAINTEXT"})
    response = json_response({"KeyId": key_arn, "CiphertextBlob": "U0VDUkVULUNJUEhFUg==", "EncryptionAlgorithm": "x"})
    call = recorder.record(request, "app", response)
    assert "U0VDUkVULUNJUEhFUg" not in repr(call) and "SECRET" not in repr(call)
    assert granted(action_map, [call])["kms:Encrypt"] == [key_arn]


def test_a_create_response_names_the_new_resource(recorder: CallRecorder, session: Any, action_map: ActionMap) -> None:
    request = sent(session, "lambda", "PublishVersion", {"FunctionName": "f"})
    created = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f:7"
    call = recorder.record(request, "app", json_response({"FunctionArn": created, "Version": "7"}))
    assert created in call.resources


def test_the_account_the_callers_traffic_shows_applies_to_all_its_calls(action_map: ActionMap) -> None:
    """An older access key id encodes no account; the queue URL the same caller used shows it."""
    session = botocore.session.get_session()
    session.set_credentials("AKIAIOSFODNN7EXAMPLE", "fake-secret-access-key")
    recorder = CallRecorder(ServiceModels(), action_map)
    role = recorder.record(sent(session, "iam", "GetRole", {"RoleName": "x"}), "app", OK)
    queue = "https://sqs.eu-west-1.amazonaws.com/123456789012/q"
    message = recorder.record(sent(session, "sqs", "SendMessage", {"QueueUrl": queue, "MessageBody": "m"}), "app", OK)
    assert role.account is None
    found = granted(action_map, [role, message])
    assert found["iam:GetRole"] == ["arn:aws:iam::123456789012:role/*/x", "arn:aws:iam::123456789012:role/x"]
    assert found["sqs:SendMessage"] == ["arn:aws:sqs:eu-west-1:123456789012:q"]


@pytest.mark.parametrize(
    ("operation", "member", "kind"),
    [
        ("GetRole", "RoleName", "role"),
        ("GetUser", "UserName", "user"),
        ("GetGroup", "GroupName", "group"),
        ("GetInstanceProfile", "InstanceProfileName", "instance-profile"),
        ("CreateVirtualMFADevice", "VirtualMFADeviceName", "mfa"),
    ],
)
def test_an_iam_name_grants_its_one_resource_whatever_its_path(
    recorder: CallRecorder, session: Any, action_map: ActionMap, operation: str, member: str, kind: str
) -> None:
    """IAM's ARN holds the path (`role/service-role/builder`), the request only the name, unique in the account:
    granted on `role/builder` alone, a role with a path is denied its own call; granted on `user/*`, every user."""
    policy, action = policy_of(recorder, action_map, sent(session, "iam", operation, {member: "builder"}))
    arn = f"arn:aws:iam::{ACCOUNT}:{kind}/"
    assert_policy_allows(policy, [Request(action, arn + path, ACCOUNT) for path in _SAME_NAME])
    assert_policy_denies(policy, [Request(action, arn + path, ACCOUNT) for path in _OTHER_NAMES])


_SAME_NAME = ["builder", "service-role/builder", "a/b/builder"]
_OTHER_NAMES = ["builder2", "xbuilder", "service-role/xbuilder", "builder/x", "other"]


def test_a_service_linked_role_is_granted_under_its_services_path_only(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """CreateServiceLinkedRole names the service, never the role: AWS creates it as
    `role/aws-service-role/<service>/<a name the service picks>`. Granted on `role/*`, the workload could create
    any service's role."""
    params = {"AWSServiceName": "elasticbeanstalk.amazonaws.com"}
    policy, action = policy_of(recorder, action_map, sent(session, "iam", "CreateServiceLinkedRole", params))
    role = f"arn:aws:iam::{ACCOUNT}:role/"
    linked = role + "aws-service-role/elasticbeanstalk.amazonaws.com/"
    assert_policy_allows(policy, [Request(action, linked + name, ACCOUNT) for name in _LINKED_ROLES])
    others = ["admin", "aws-service-role/ecs.amazonaws.com/AWSServiceRoleForECS", "elasticbeanstalk.amazonaws.com/x"]
    assert_policy_denies(policy, [Request(action, role + name, ACCOUNT) for name in others])


_LINKED_ROLES = ["AWSServiceRoleForElasticBeanstalk", "AWSServiceRoleForElasticBeanstalk_debug"]


def test_the_service_linked_role_path_is_the_one_awss_managed_policies_grant(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """AWS's own managed policies (moto's copy) grant iam:CreateServiceLinkedRole on
    `role/aws-service-role/<S>/<role>` under the condition iam:AWSServiceName = S: each such role is allowed by
    the policy of a call that named S."""
    granted_roles = list(_managed_service_linked_roles())
    assert len(granted_roles) > 100
    aggregator = Aggregator(action_map)
    for service in {service for service, _ in granted_roles}:
        request = sent(session, "iam", "CreateServiceLinkedRole", {"AWSServiceName": service})
        aggregator.add(recorder.record(request, "app", OK))
    builder = PolicyBuilder(action_map, PolicyOptions())
    policy = builder.document(builder.grants(aggregator.workloads["app"]))
    roles = [arn.replace(":iam::*:", f":iam::{ACCOUNT}:").rstrip("*") + "x" for _, arn in granted_roles]
    assert_policy_allows(policy, [Request("iam:CreateServiceLinkedRole", arn, ACCOUNT) for arn in roles])


def _managed_service_linked_roles() -> Iterator[tuple[str, str]]:
    """(service principal, role ARN) of each managed-policy statement granting CreateServiceLinkedRole on one
    service's role path under a condition naming that service alone."""
    from moto.iam.aws_managed_policies import aws_managed_policies_data

    for policy in json.loads(aws_managed_policies_data).values():
        statements = policy["Document"]["Statement"]
        for statement in statements if isinstance(statements, list) else [statements]:
            actions = statement.get("Action", [])
            services = [
                value
                for condition in statement.get("Condition", {}).values()
                for value in _as_list(condition.get("iam:AWSServiceName", []))
            ]
            if "iam:CreateServiceLinkedRole" not in _as_list(actions) or len(services) != 1:
                continue
            for arn in _as_list(statement.get("Resource", [])):
                if arn.startswith(f"arn:aws:iam::*:role/aws-service-role/{services[0]}/"):
                    yield services[0], arn


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


@pytest.mark.parametrize(
    ("service", "operation", "params", "arn"),
    [
        ("elasticache", "DescribeCacheClusters", {"CacheClusterId": "Orders-Cache"}, "cluster:orders-cache"),
        ("rds", "DescribeDBInstances", {"DBInstanceIdentifier": "Orders-DB"}, "db:orders-db"),
        ("rds", "DescribeDBClusters", {"DBClusterIdentifier": "Orders"}, "cluster:orders"),
        ("rds", "DescribeDBSnapshots", {"DBSnapshotIdentifier": "Nightly-1"}, "snapshot:nightly-1"),
        ("rds", "DescribeDBParameters", {"DBParameterGroupName": "Tuned"}, "pg:tuned"),
        ("rds", "DescribeDBSubnetGroups", {"DBSubnetGroupName": "Private"}, "subgrp:private"),
    ],
)
def test_a_name_aws_stores_in_lower_case_is_granted_in_lower_case(
    recorder: CallRecorder, session: Any, action_map: ActionMap, service: str, operation: str, params: Any, arn: str
) -> None:
    """RDS and ElastiCache keep these names in lower case (botocore's documentation says so), and so does the
    resource's ARN, whatever case the request used: `db:Orders-DB` would deny the call its own database."""
    policy, action = policy_of(recorder, action_map, sent(session, service, operation, params))
    prefix = f"arn:aws:{action.partition(':')[0]}:eu-west-1:{ACCOUNT}:"
    assert_policy_allows(policy, [Request(action, prefix + arn, ACCOUNT)])
    assert_policy_denies(policy, [Request(action, prefix + arn.replace(":", ":other-", 1), ACCOUNT)])


@pytest.mark.parametrize(
    ("service", "operation", "params", "arn"),
    [
        ("glue", "DeleteCrawler", {"Name": "nightly"}, "crawler/nightly"),
        ("glue", "GetConnection", {"Name": "warehouse"}, "connection/warehouse"),
        ("ssm", "GetParameter", {"Name": "/app/db-host"}, "parameter/app/db-host"),
    ],
)
def test_a_generic_name_names_the_resource_the_operation_acts_on(
    recorder: CallRecorder, session: Any, action_map: ActionMap, service: str, operation: str, params: Any, arn: str
) -> None:
    """Glue's `Name` went unread (`crawler/*`, every crawler): SSM's `Name` alias came before the rule that a
    generic `Name` names the operation's own resource."""
    call = recorder.record(sent(session, service, operation, params), "app", OK)
    action = action_map.lookup(call.service, call.operation).actions[0]
    found = granted(action_map, [call])[action]
    assert f"arn:aws:{action.partition(':')[0]}:eu-west-1:{ACCOUNT}:{arn}" in found
    assert not [resource for resource in found if resource.endswith("*")]


@pytest.mark.parametrize(
    ("service", "operation", "params", "arn"),
    [
        ("appsync", "UpdateApi", {"apiId": "api123", "name": "renamed"}, "arn:aws:appsync:eu-west-1:{}:apis/api123"),
        ("amplify", "UpdateApp", {"appId": "d123", "name": "renamed"}, "arn:aws:amplify:eu-west-1:{}:apps/d123"),
        (
            "amp",
            "DescribeRuleGroupsNamespace",
            {"workspaceId": "ws-1234", "name": "alerts"},
            "arn:aws:aps:eu-west-1:{}:rulegroupsnamespace/ws-1234/alerts",
        ),
        (  # a name-like own placeholder (BotName) that a specific member (botName) binds too: that one wins
            "lex-models",
            "GetBotChannelAssociation",
            {"name": "slack", "botName": "OrderBot", "botAlias": "prod"},
            "arn:aws:lex:eu-west-1:{}:bot-channel:OrderBot:prod:slack",
        ),
        (
            "connect",
            "DeletePredefinedAttribute",
            {"InstanceId": "inst-1", "Name": "tier"},
            "arn:aws:connect:eu-west-1:{}:instance/inst-1",
        ),
    ],
)
def test_a_generic_name_never_stands_for_another_resources_id(
    recorder: CallRecorder, session: Any, action_map: ActionMap, service: str, operation: str, params: Any, arn: str
) -> None:
    """An AppSync API's `name` is no `${ApiId}`: taken for it, the policy granted `apis/renamed` and denied the
    call its own API (`apis/api123`)."""
    policy, action = policy_of(recorder, action_map, sent(session, service, operation, params))
    assert_policy_allows(policy, [Request(action, arn.format(ACCOUNT), ACCOUNT)])


@pytest.mark.parametrize(
    ("service", "operation", "params", "named", "other"),
    [
        (
            "ec2",
            "StopInstances",
            {"InstanceIds": ["i-0123456789abcdef0", "i-0fedcba9876543210"]},
            ["instance/i-0123456789abcdef0", "instance/i-0fedcba9876543210"],
            "instance/i-0aaaaaaaaaaaaaaaa",
        ),
        (
            "ecr",
            "DescribeRepositories",
            {"repositoryNames": ["web", "worker"]},
            ["repository/web", "repository/worker"],
            "repository/admin",
        ),
    ],
)
def test_a_list_of_names_grants_each_name(
    recorder: CallRecorder,
    session: Any,
    action_map: ActionMap,
    service: str,
    operation: str,
    params: Any,
    named: list[str],
    other: str,
) -> None:
    """`StopInstances(InstanceIds=[...])` was granted on `instance/*`: the list went unread, every instance."""
    policy, action = policy_of(recorder, action_map, sent(session, service, operation, params))
    prefix = f"arn:aws:{action.partition(':')[0]}:eu-west-1:{ACCOUNT}:"
    assert_policy_allows(policy, [Request(action, prefix + resource, ACCOUNT) for resource in named])
    assert_policy_denies(policy, [Request(action, prefix + other, ACCOUNT)])


def test_an_ec2_security_groups_group_id_names_it(recorder: CallRecorder, session: Any, action_map: ActionMap) -> None:
    """EC2 calls a security group's id `GroupId`; unread, `AuthorizeSecurityGroupIngress` granted every group."""
    params = {
        "GroupId": "sg-0123456789abcdef0",
        "IpProtocol": "tcp",
        "FromPort": 443,
        "ToPort": 443,
        "CidrIp": "10.0.0.0/8",
    }
    policy, action = policy_of(recorder, action_map, sent(session, "ec2", "AuthorizeSecurityGroupIngress", params))
    arn = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:security-group/"
    assert_policy_allows(policy, [Request(action, arn + "sg-0123456789abcdef0", ACCOUNT)])
    assert_policy_denies(policy, [Request(action, arn + "sg-0fedcba9876543210", ACCOUNT)])


@pytest.mark.parametrize(
    ("operation", "params", "kind", "named", "other"),
    [
        ("DeleteKeyPair", {"KeyName": "deployer"}, "key-pair", "deployer", "deployer2"),
        ("ImportKeyPair", {"KeyName": "deployer", "PublicKeyMaterial": b"ssh-ed25519 A"}, "key-pair", "deployer", "x"),
        ("DeleteNetworkAcl", {"NetworkAclId": "acl-0123456789abcdef0"}, "network-acl", "acl-0123456789abcdef0", "a"),
        (
            "ModifyVpcEndpointServicePermissions",
            {"ServiceId": "vpce-svc-0123456789abcdef0"},
            "vpc-endpoint-service",
            "vpce-svc-0123456789abcdef0",
            "vpce-svc-1",
        ),
        ("ReleaseHosts", {"HostIds": ["h-0123456789abcdef0"]}, "dedicated-host", "h-0123456789abcdef0", "h-1"),
    ],
)
def test_an_ec2_name_its_arn_calls_otherwise_names_it(
    recorder: CallRecorder,
    session: Any,
    action_map: ActionMap,
    operation: str,
    params: dict[str, Any],
    kind: str,
    named: str,
    other: str,
) -> None:
    """EC2's key pair is `KeyName` in a request and `${KeyPairName}` in its ARN, a network ACL `NetworkAclId` and
    `${NaclId}`, an endpoint service `ServiceId`, a dedicated host `HostId`: unread, each was granted every one."""
    policy, action = policy_of(recorder, action_map, sent(session, "ec2", operation, params))
    arn = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:{kind}/"
    assert_policy_allows(policy, [Request(action, arn + named, ACCOUNT)])
    assert_policy_denies(policy, [Request(action, arn + other, ACCOUNT)])


def test_run_instances_is_granted_the_root_volume_it_creates(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """An EBS-backed launch is authorized on the volume it creates (every one of AWS's managed policies that
    scopes ec2:RunInstances grants `volume/*`), though AWS's table lists the type as optional: a launch that
    named its image, subnet and groups was granted no volume and denied."""
    params = {
        "ImageId": "ami-0123456789abcdef0",
        "InstanceType": "t3.micro",
        "MinCount": 1,
        "MaxCount": 1,
        "SubnetId": "subnet-0123456789abcdef0",
        "SecurityGroupIds": ["sg-0123456789abcdef0"],
        "KeyName": "deployer",
    }
    policy, action = policy_of(recorder, action_map, sent(session, "ec2", "RunInstances", params))
    arn = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:"
    launch = [
        "arn:aws:ec2:eu-west-1::image/ami-0123456789abcdef0",
        arn + "instance/i-0123456789abcdef0",
        arn + "network-interface/eni-0123456789abcdef0",
        arn + "security-group/sg-0123456789abcdef0",
        arn + "subnet/subnet-0123456789abcdef0",
        arn + "key-pair/deployer",
        arn + "volume/vol-0123456789abcdef0",
    ]
    assert_policy_allows(policy, [Request(action, resource, ACCOUNT) for resource in launch])
    assert_policy_denies(policy, [Request(action, arn + "subnet/subnet-0fedcba9876543210", ACCOUNT)])


def test_a_list_is_read_by_its_elements_name_where_its_own_says_nothing(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """EC2 CreateNetworkInterface's `Groups` holds `SecurityGroupId`s (botocore's element shape; the wire's
    `SecurityGroupId.1=`): unread, no security group was granted and IAM denied the call its own groups."""
    params = {"SubnetId": "subnet-0123456789abcdef0", "Groups": ["sg-0123456789abcdef0", "sg-0aaaaaaaaaaaaaaaa"]}
    policy, action = policy_of(recorder, action_map, sent(session, "ec2", "CreateNetworkInterface", params))
    arn = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:"
    named = [arn + "security-group/" + group for group in params["Groups"]]
    created = [arn + "subnet/subnet-0123456789abcdef0", arn + "network-interface/eni-0123456789abcdef0"]
    assert_policy_allows(policy, [Request(action, resource, ACCOUNT) for resource in named + created])
    assert_policy_denies(policy, [Request(action, arn + "security-group/sg-0fedcba9876543210", ACCOUNT)])


# The function itself stays granted too: AWS's table lists it as the type every request of the action needs.
_ALIAS_OTHERS = ["worker:other", "other:live", "worker2", "worker:live:x"]
_VERSION_OTHERS = ["other:7", "worker2", "worker2:7"]  # tomorrow's published version is `worker:8`: generalized


@pytest.mark.parametrize(
    ("params", "invoked", "others"),
    [
        ({"FunctionName": "worker", "Qualifier": "live"}, "worker:live", _ALIAS_OTHERS),
        ({"FunctionName": "worker:7"}, "worker:7", _VERSION_OTHERS),
        ({"FunctionName": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:worker:live"}, "worker:live", _ALIAS_OTHERS),
        (
            {"FunctionName": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:worker", "Qualifier": "7"},
            "worker:7",
            _VERSION_OTHERS,
        ),
        ({"FunctionName": "worker"}, "worker", ["worker:live", "worker:7", "worker2", "other"]),
    ],
)
def test_a_lambda_call_with_a_qualifier_is_granted_the_qualified_function(
    recorder: CallRecorder,
    session: Any,
    action_map: ActionMap,
    params: dict[str, Any],
    invoked: str,
    others: list[str],
) -> None:
    """Since 2022-01-24 Lambda authorizes a call naming a version or alias (`Qualifier`, or `name:qualifier`)
    on the qualified ARN, `function:worker:live`; granted `function:worker` alone, IAM denied it. A version
    number is generalized (the next publish is `worker:8`), an alias is not."""
    policy, action = policy_of(recorder, action_map, sent(session, "lambda", "Invoke", params))
    arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:"
    assert_policy_allows(policy, [Request(action, arn + invoked, ACCOUNT)])
    assert_policy_denies(policy, [Request(action, arn + other, ACCOUNT) for other in others])


def test_an_optional_resource_a_structure_names_is_granted_though_unread(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """RunInstances from a launch template names it inside `LaunchTemplate`, a structure the proxy does not
    read; the call named its subnet, so the optional launch-template type was left out and IAM denied the
    launch. What went unread is granted with `*` (never narrower than the call); what was read stays exact."""
    params = {
        "MinCount": 1,
        "MaxCount": 1,
        "LaunchTemplate": {"LaunchTemplateId": "lt-0123456789abcdef0", "Version": "3"},
        "SubnetId": "subnet-0123456789abcdef0",
    }
    policy, action = policy_of(recorder, action_map, sent(session, "ec2", "RunInstances", params))
    arn = f"arn:aws:ec2:eu-west-1:{ACCOUNT}:"
    launch = [arn + "launch-template/lt-0123456789abcdef0", arn + "subnet/subnet-0123456789abcdef0"]
    assert_policy_allows(policy, [Request(action, resource, ACCOUNT) for resource in launch])
    others = [arn + "subnet/subnet-0fedcba9876543210", arn + "capacity-reservation/cr-0123456789abcdef0"]
    assert_policy_denies(policy, [Request(action, resource, ACCOUNT) for resource in others])


@pytest.mark.parametrize(
    ("operation", "params"),
    [
        ("BatchWriteItem", {"RequestItems": {"orders": [{"PutRequest": {"Item": {"id": {"S": "1"}}}}]}}),
        ("BatchGetItem", {"RequestItems": {"orders": {"Keys": [{"id": {"S": "1"}}]}}}),
        (
            "BatchGetItem",
            {"RequestItems": {f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders": {"Keys": [{"id": {"S": "1"}}]}}},
        ),
    ],
)
def test_a_map_keyed_by_names_grants_each_name(
    recorder: CallRecorder, session: Any, action_map: ActionMap, operation: str, params: dict[str, Any]
) -> None:
    """DynamoDB's batch operations name their tables as the keys of `RequestItems` (botocore's key shape:
    `TableArn`, a name or an ARN); unread, a batch write was granted every table."""
    policy, action = policy_of(recorder, action_map, sent(session, "dynamodb", operation, params))
    arn = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/"
    assert_policy_allows(policy, [Request(action, arn + "orders", ACCOUNT)])
    assert_policy_denies(policy, [Request(action, arn + other, ACCOUNT) for other in ("payments", "orders2")])


def test_a_maps_keys_that_are_no_resources_are_never_kept(recorder: CallRecorder, session: Any) -> None:
    """PutItem's `Item` is keyed by attribute names (data, not resources), even one written like an ARN."""
    arn_like = f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/payments"
    params = {"TableName": "orders", "Item": {"id": {"S": "1"}, arn_like: {"S": "x"}}}
    call = recorder.record(sent(session, "dynamodb", "PutItem", params), "app", OK)
    assert call.resources == (f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/orders",)


def test_a_generic_name_fills_an_inner_name_of_the_resource_the_operation_is_named_after(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """Glue's table is `table/${DatabaseName}/${TableName}`: GetTable's `Name` is the table's, the inner name;
    only the outer one was considered, and the call was granted every table of the database."""
    params = {"DatabaseName": "sales", "Name": "orders"}
    policy, action = policy_of(recorder, action_map, sent(session, "glue", "GetTable", params))
    arn = f"arn:aws:glue:eu-west-1:{ACCOUNT}:"
    allowed = [arn + "table/sales/orders", arn + "database/sales", arn + "catalog"]
    assert_policy_allows(policy, [Request(action, resource, ACCOUNT) for resource in allowed])
    others = [arn + "table/sales/payments", arn + "table/other/orders", arn + "database/other"]
    assert_policy_denies(policy, [Request(action, resource, ACCOUNT) for resource in others])


def test_a_request_through_an_s3_access_point_is_granted_on_the_access_point(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """botocore sends `Bucket=<access point ARN>` to `<name>-<account>.s3-accesspoint.<region>.amazonaws.com`;
    the host's first label was read as a bucket (`arn:aws:s3:::ap-<account>/<key>`) and IAM, which authorizes
    the access point's ARN, denied the call."""
    access_point = f"arn:aws:s3:eu-west-1:{ACCOUNT}:accesspoint/reports"
    get = sent(session, "s3", "GetObject", {"Bucket": access_point, "Key": "config/app.json"})
    policy, action = policy_of(recorder, action_map, get)
    assert_policy_allows(policy, [Request(action, access_point + "/object/config/app.json", ACCOUNT)])
    others = [access_point + "/object/private/app.json", access_point + "x/object/config/app.json"]
    others.append(f"arn:aws:s3:::reports-{ACCOUNT}/config/app.json")
    assert_policy_denies(policy, [Request(action, other, ACCOUNT) for other in others])
    listing = sent(session, "s3", "ListObjectsV2", {"Bucket": access_point, "Prefix": "config/"})
    policy, action = policy_of(recorder, action_map, listing)
    assert_policy_allows(policy, [Request(action, access_point, ACCOUNT)])
    assert_policy_denies(policy, [Request(action, f"arn:aws:s3:::reports-{ACCOUNT}", ACCOUNT)])


@pytest.mark.parametrize(
    ("operation", "params", "named", "others"),
    [
        ("RunTask", {"cluster": "prod", "taskDefinition": "web:3"}, "task-definition/web:3", ["task-definition/api:3"]),
        ("RunTask", {"cluster": "prod", "taskDefinition": "web"}, "task-definition/web:7", ["task-definition/api:7"]),
        ("UpdateService", {"cluster": "prod", "service": "api"}, "service/prod/api", ["service/prod/worker"]),
        ("DescribeServices", {"cluster": "prod", "services": ["api"]}, "service/prod/api", ["service/prod/worker"]),
    ],
)
def test_an_ecs_service_and_task_definition_are_named(
    recorder: CallRecorder,
    session: Any,
    action_map: ActionMap,
    operation: str,
    params: dict[str, Any],
    named: str,
    others: list[str],
) -> None:
    """ECS calls a service `service` and a task definition `family[:revision]` (`taskDefinition`); unread, a
    deploy's UpdateService was granted every service of the cluster, RunTask every task definition."""
    policy, action = policy_of(recorder, action_map, sent(session, "ecs", operation, params))
    arn = f"arn:aws:ecs:eu-west-1:{ACCOUNT}:"
    assert_policy_allows(policy, [Request(action, arn + named, ACCOUNT)])
    assert_policy_denies(policy, [Request(action, arn + other, ACCOUNT) for other in others])


CFN, EKS = f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:", f"arn:aws:eks:eu-west-1:{ACCOUNT}:"
SSM, ZONE = f"arn:aws:ssm:eu-west-1:{ACCOUNT}:", "arn:aws:route53:::hostedzone/"
ASG = f"arn:aws:autoscaling:eu-west-1:{ACCOUNT}:autoScalingGroup:8e2f3a4b-1c2d-4e5f-8a9b-0c1d2e3f4a5b:"
ELB = f"arn:aws:elasticloadbalancing:eu-west-1:{ACCOUNT}:"
RULE, WORK_GROUP = f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/", f"arn:aws:athena:eu-west-1:{ACCOUNT}:workgroup/"
SCHEDULE = f"arn:aws:scheduler:eu-west-1:{ACCOUNT}:schedule/"
STACK_ID, EXECUTION = "8a5b3f10-37d2-11f0-9a4b-0a1b2c3d4e5f", "1a2b3c4d-1234-5678-90ab-1234567890ab"
NAMED = [
    # An ARN that ends with the id AWS gave the resource, which no request names (`stack/${StackName}/${Id}`):
    # the format was never filled, and a deploy's CreateStack or ExecuteChangeSet was granted every stack.
    (
        "cloudformation",
        "CreateStack",
        {"StackName": "app", "TemplateBody": "{}"},
        CFN + f"stack/app/{STACK_ID}",
        [CFN + f"stack/app-prod/{STACK_ID}", CFN + f"stack/other/{STACK_ID}"],
    ),
    (
        "cloudformation",
        "ExecuteChangeSet",
        {"StackName": "CDKToolkit", "ChangeSetName": "cdk-deploy-change-set"},
        CFN + f"stack/CDKToolkit/{STACK_ID}",
        [CFN + f"stack/app/{STACK_ID}"],
    ),
    (
        "eks",
        "DescribeNodegroup",
        {"clusterName": "prod", "nodegroupName": "workers"},
        EKS + "nodegroup/prod/workers/4ec6c1a2-8e5b-4b8a-9d8e-0123456789ab",
        [EKS + "nodegroup/prod/spot/4ec6c1a2-8e5b-4b8a-9d8e-0123456789ab"],
    ),
    (
        "xray",
        "GetGroup",
        {"GroupName": "api"},
        f"arn:aws:xray:eu-west-1:{ACCOUNT}:group/api/ABCDEFGHIJKLMNOP",
        [f"arn:aws:xray:eu-west-1:{ACCOUNT}:group/web/ABCDEFGHIJKLMNOP"],
    ),
    # SSM's and Route 53's tag operations name a resource by `ResourceType` and `ResourceId`: the id filled every
    # format with a `${ResourceId}` (an SSM maintenance window, OpsItem, OpsMetadata), never the parameter or
    # document named, and Terraform's tagging of a parameter was denied.
    (
        "ssm",
        "AddTagsToResource",
        {"ResourceType": "Parameter", "ResourceId": "/app/prod/url", "Tags": [{"Key": "team", "Value": "a"}]},
        SSM + "parameter/app/prod/url",
        [SSM + "parameter/app/prod/other", SSM + "maintenancewindow//app/prod/url"],
    ),
    (
        "ssm",
        "ListTagsForResource",
        {"ResourceType": "Document", "ResourceId": "deploy-runbook"},
        SSM + "document/deploy-runbook",
        [SSM + "document/other-runbook", SSM + "opsitem/deploy-runbook"],
    ),
    (
        "ssm",
        "ListTagsForResource",
        {"ResourceType": "Automation", "ResourceId": EXECUTION},
        SSM + f"automation-execution/{EXECUTION}",
        [],
    ),
    (
        "route53",
        "ListTagsForResource",
        {"ResourceType": "hostedzone", "ResourceId": "Z123456ABCDEFG"},
        ZONE + "Z123456ABCDEFG",
        [ZONE + "Z999999ABCDEFG", "arn:aws:route53:::healthcheck/abcdef11-2222-3333-4444-555555fedcba"],
    ),
    # A member its ARN calls otherwise: Route 53's `hostedzone/${Id}` (`HostedZoneId`), an Auto Scaling group's
    # `autoScalingGroup:${GroupId}:autoScalingGroupName/${GroupFriendlyName}` (AWS gives the id), a target group's
    # `targetgroup/${TargetGroupName}/${TargetGroupId}`: every zone, group or target group was granted.
    (
        "route53",
        "ChangeResourceRecordSets",
        {"HostedZoneId": "Z123456ABCDEFG", "ChangeBatch": {"Changes": []}},
        ZONE + "Z123456ABCDEFG",
        [ZONE + "Z999999ABCDEFG"],
    ),
    ("route53", "ListResourceRecordSets", {"HostedZoneId": "Z123456ABCDEFG"}, ZONE + "Z123456ABCDEFG", [ZONE + "Z9"]),
    (
        "autoscaling",
        "UpdateAutoScalingGroup",
        {"AutoScalingGroupName": "web", "DesiredCapacity": 2},
        ASG + "autoScalingGroupName/web",
        [ASG + "autoScalingGroupName/api"],
    ),
    # An EventBridge rule is `rule/${RuleName}` on the default bus or `rule/${EventBusName}/${RuleName}` on
    # another: two resource types, neither required, so PutRule's `Name` named neither and PutTargets' `Rule`
    # was not kept; every rule was granted.
    ("events", "PutRule", {"Name": "nightly", "ScheduleExpression": "rate(1 day)"}, RULE + "nightly", [RULE + "x"]),
    ("events", "DescribeRule", {"Name": "nightly"}, RULE + "nightly", [RULE + "other"]),
    (
        "events",
        "PutTargets",
        {"Rule": "nightly", "Targets": [{"Id": "1", "Arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:jobs"}]},
        RULE + "nightly",
        [RULE + "other"],
    ),
    (
        "events",
        "PutRule",
        {"Name": "placed", "EventBusName": "orders", "EventPattern": "{}"},
        RULE + "orders/placed",
        [RULE + "orders/other", RULE + "payments/placed"],
    ),
    # A schedule is `schedule/${GroupName}/${ScheduleName}`; a request that omits `GroupName` means the group
    # `default` (botocore's documentation of each operation): every schedule of every group was granted.
    ("scheduler", "GetSchedule", {"Name": "nightly"}, SCHEDULE + "default/nightly", [SCHEDULE + "ops/nightly"]),
    ("scheduler", "DeleteSchedule", {"Name": "nightly"}, SCHEDULE + "default/nightly", [SCHEDULE + "default/x"]),
    ("scheduler", "GetSchedule", {"Name": "n", "GroupName": "ops"}, SCHEDULE + "ops/n", [SCHEDULE + "default/n"]),
    # Athena's `WorkGroup` (`workgroup/${WorkGroupName}`) was not kept: every work group.
    (
        "athena",
        "StartQueryExecution",
        {"QueryString": "SELECT 1", "WorkGroup": "analytics"},
        WORK_GROUP + "analytics",
        [WORK_GROUP + "primary"],
    ),
    ("athena", "GetWorkGroup", {"WorkGroup": "analytics"}, WORK_GROUP + "analytics", [WORK_GROUP + "primary"]),
    # Application Auto Scaling's `ResourceId` is the scaled resource (`service/prod/web`), a scalable target's ARN
    # ends with an id AWS gives it; both are called `ResourceId`, so `scalable-target/service/prod/web` was granted
    # and Terraform's registration of an ECS service's scaling denied (Route 53 Resolver's VPC alike).
    (
        "application-autoscaling",
        "RegisterScalableTarget",
        {
            "ServiceNamespace": "ecs",
            "ResourceId": "service/prod/web",
            "ScalableDimension": "ecs:service:DesiredCount",
            "MinCapacity": 1,
            "MaxCapacity": 4,
        },
        f"arn:aws:application-autoscaling:eu-west-1:{ACCOUNT}:scalable-target/1234abcd56ab78cd901ef1234567890ab123",
        [],
    ),
    (
        "route53resolver",
        "GetFirewallConfig",
        {"ResourceId": "vpc-0123456789abcdef0"},
        f"arn:aws:route53resolver:eu-west-1:{ACCOUNT}:firewall-config/rslvr-fc-0123456789abcdef",
        [],
    ),
    (
        "elbv2",
        "CreateTargetGroup",
        {"Name": "web", "Protocol": "HTTP", "Port": 80, "VpcId": "vpc-0123456789abcdef0"},
        ELB + "targetgroup/web/73e2d6bc24d8a067",
        [ELB + "targetgroup/api/73e2d6bc24d8a067"],
    ),
]


@pytest.mark.parametrize(("service", "operation", "params", "named", "others"), NAMED)
def test_a_call_is_granted_the_resource_it_names_and_no_other(
    recorder: CallRecorder,
    session: Any,
    action_map: ActionMap,
    service: str,
    operation: str,
    params: dict[str, Any],
    named: str,
    others: list[str],
) -> None:
    """Each case's comment says how the name went unread, or was read as another resource's."""
    policy, action = policy_of(recorder, action_map, sent(session, service, operation, params))
    assert_policy_allows(policy, [Request(action, named, ACCOUNT)])
    assert_policy_denies(policy, [Request(action, other, ACCOUNT) for other in others])


PASSED_IN_STRUCTURES = [
    (
        "events",
        "PutTargets",
        {
            "Rule": "nightly",
            "Targets": [
                {
                    "Id": "1",
                    "Arn": f"arn:aws:states:eu-west-1:{ACCOUNT}:stateMachine:nightly",
                    "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/events-start-nightly",
                }
            ],
        },
    ),
    (
        "scheduler",
        "CreateSchedule",
        {
            "Name": "nightly",
            "ScheduleExpression": "rate(1 day)",
            "FlexibleTimeWindow": {"Mode": "OFF"},
            "Target": {
                "Arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:worker",
                "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/events-start-nightly",
            },
        },
    ),
]


@pytest.mark.parametrize("call", PASSED_IN_STRUCTURES, ids=lambda call: f"{call[0]}.{call[1]}")
def test_a_role_passed_inside_a_structure_is_the_one_role_granted(
    recorder: CallRecorder, session: Any, action_map: ActionMap, call: tuple[str, str, dict[str, Any]]
) -> None:
    """A target's role is inside `Targets` (`Target`): unread, iam:PassRole was granted on every role of the
    account (`role/*`, to the service), enough to hand an administrator's role to a rule's target."""
    service, operation, params = call
    policy, _ = policy_of(recorder, action_map, sent(session, service, operation, params))
    context = {"iam:PassedToService": f"{service}.amazonaws.com"}
    role = f"arn:aws:iam::{ACCOUNT}:role/"
    assert_policy_allows(policy, [Request("iam:PassRole", role + "events-start-nightly", ACCOUNT, context=context)])
    assert_policy_denies(policy, [Request("iam:PassRole", role + "admin", ACCOUNT, context=context)])


PASSED_NO_ROLE = [
    # Terraform's aws_cloudwatch_event_target for a Lambda function or a queue: a target with no role.
    (
        "events",
        "PutTargets",
        {"Rule": "nightly", "Targets": [{"Id": "1", "Arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"}]},
    ),
    (
        "events",
        "PutTargets",
        {
            "Rule": "nightly",
            "Targets": [
                {"Id": "1", "Arn": f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:worker", "Input": '{"role": 1}'},
                {"Id": "2", "Arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q", "SqsParameters": {"MessageGroupId": "g"}},
            ],
        },
    ),
]


@pytest.mark.parametrize("call", PASSED_NO_ROLE, ids=lambda call: f"{call[0]}.{call[1]}")
def test_a_structure_that_holds_no_role_passes_none(
    recorder: CallRecorder, session: Any, action_map: ActionMap, call: tuple[str, str, dict[str, Any]]
) -> None:
    """`Targets` can hold a role (`RoleArn`), so every PutTargets was granted iam:PassRole on every role of the
    account (to events); a target with no role passes none."""
    service, operation, params = call
    policy, action = policy_of(recorder, action_map, sent(session, service, operation, params))
    context = {"iam:PassedToService": f"{service}.amazonaws.com"}
    assert_policy_allows(policy, [Request(action, f"arn:aws:events:eu-west-1:{ACCOUNT}:rule/nightly", ACCOUNT)])
    assert_policy_denies(
        policy, [Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin", ACCOUNT, context=context)]
    )


def test_a_role_passed_by_one_request_is_granted_beside_one_that_passed_none(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    without, with_role = PASSED_NO_ROLE[0], PASSED_IN_STRUCTURES[0]
    aggregator = Aggregator(action_map)
    for call in (without, with_role, without):
        aggregator.add(recorder.record(sent(session, *call), "app", OK))
    grants = PolicyBuilder(action_map, PolicyOptions()).grants(aggregator.workloads["app"])
    assert grants.pass_role == {
        frozenset({"events.amazonaws.com"}): frozenset({f"arn:aws:iam::{ACCOUNT}:role/events-start-nightly"})
    }


def test_a_role_inside_a_structure_the_proxy_cannot_read_as_an_arn_keeps_every_role(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """Glue's `JobUpdate.Role` holds a role's name or ARN; a name is not read, so the grant stays on every role
    (never narrower than the request)."""
    params = {"JobName": "etl", "JobUpdate": {"Role": "etl-role", "Command": {"Name": "glueetl"}}}
    policy, _ = policy_of(recorder, action_map, sent(session, "glue", "UpdateJob", params))
    context = {"iam:PassedToService": "glue.amazonaws.com"}
    assert_policy_allows(
        policy, [Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/etl-role", ACCOUNT, context=context)]
    )


def test_a_structure_that_also_needs_another_action_is_kept_though_it_held_no_role(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """MediaConnect CreateFlow's `Outputs` can hold a role and also needs mediaconnect:AddFlowOutputs: an output
    with no role still needs that action, so the member stays (and with it PassRole, as before)."""
    params = {"Name": "live", "Outputs": [{"Protocol": "srt-listener", "Port": 5000}]}
    request = sent(session, "mediaconnect", "CreateFlow", params)
    call = recorder.record(request, "app", OK)
    assert "Outputs" in call.request_members
    assert "mediaconnect:AddFlowOutputs" in granted(action_map, [call])


@pytest.mark.parametrize(
    ("targets", "roleless"),
    [
        ([{"Id": "1", "Arn": f"arn:aws:sqs:eu-west-1:{ACCOUNT}:q"}], {"Targets"}),
        ([{"Id": "1", "Arn": "a", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/r"}], set()),
        ([{"Id": "1", "Arn": "a", "RoleArn": "not-an-arn"}], set()),  # a role key, unread: may pass a role
        ([{"Id": "1", "Arn": "a", "EcsParameters": {"TaskDefinitionArn": "t"}}], {"Targets"}),
    ],
)
def test_which_structures_are_read_holding_no_role(
    session: Any, targets: list[dict[str, Any]], roleless: set[str]
) -> None:
    request = sent(session, "events", "PutTargets", {"Rule": "nightly", "Targets": targets})
    found = match_request(request, ServiceModels())
    assert isinstance(found, MatchedCall) and found.roleless == roleless
    cut = match_request(request._replace(body_truncated=True), ServiceModels())
    assert isinstance(cut, MatchedCall) and cut.roleless == set()  # a cut body is not read


def test_a_deployment_package_sent_inline_leaves_the_rest_of_the_request_read(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """Terraform's `aws_lambda_function` with `filename` (the Go SDK writes members in name order: `Code` second)
    and boto3's `create_function(Code={"ZipFile": ...})` send the package inline: a body past the 64 KiB the
    proxy reads, so `FunctionName`, `Role`, `Tags` and `Layers` went unread: the function was granted as
    `function:*`, the role as `role/*`, and lambda:TagResource and lambda:GetLayerVersion were not granted
    at all (the deployment was denied)."""
    request = sent(session, "lambda", "CreateFunction", inline_deployment(bytes(range(256)) * 1_000))
    assert_the_deployment_is_granted(policy_of(recorder, action_map, request)[0])


def test_a_template_sent_in_the_request_leaves_the_rest_of_the_request_read(
    recorder: CallRecorder, session: Any, action_map: ActionMap
) -> None:
    """`aws cloudformation deploy --role-arn ... --tags ...` sends CreateChangeSet with the template's body
    before `RoleARN` and `Tags` (the CLI's order); a 50 KB template, URL-encoded, is over the 64 KiB the proxy
    reads, so iam:PassRole and cloudformation:TagResource were not granted (the deployment was denied)."""
    template = "Resources:\n" + "".join(f"  Queue{i}:\n    Type: AWS::SQS::Queue\n" for i in range(1_300))
    assert len(template) <= 51_200  # CloudFormation's limit for a template in the request
    params = {
        "ChangeSetName": "deploy-1",
        "StackName": "app",
        "TemplateBody": template,
        "ChangeSetType": "CREATE",
        "RoleARN": f"arn:aws:iam::{ACCOUNT}:role/cfn-exec",
        "Tags": [{"Key": "team", "Value": "data"}],
    }
    request = sent(session, "cloudformation", "CreateChangeSet", params)
    policy, _ = policy_of(recorder, action_map, request)
    stack = f"arn:aws:cloudformation:eu-west-1:{ACCOUNT}:stack/app/*"
    context = {"iam:PassedToService": "cloudformation.amazonaws.com"}
    assert_policy_allows(
        policy,
        [
            Request("cloudformation:CreateChangeSet", stack.replace("*", "1234"), ACCOUNT),
            Request("cloudformation:TagResource", stack.replace("*", "1234"), ACCOUNT),
            Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/cfn-exec", ACCOUNT, context=context),
        ],
    )
    assert_policy_denies(
        policy, [Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/admin", ACCOUNT, context=context)]
    )


UNREAD_BESIDE_READ = [
    # Terraform's aws_emr_cluster: the service role by ARN, the EC2 instance profile (whose role IAM checks) by
    # name; the one role read must not narrow PassRole to itself.
    (
        "emr",
        "RunJobFlow",
        {
            "Name": "etl",
            "Instances": {"KeepJobFlowAliveWhenNoSteps": False},
            "ServiceRole": f"arn:aws:iam::{ACCOUNT}:role/EMR_DefaultRole",
            "JobFlowRole": "EMR_EC2_DefaultRole",
        },
        "ec2.amazonaws.com",
    ),
    # Two targets, one role read and one role key the proxy cannot read as a role's ARN.
    (
        "events",
        "PutTargets",
        {
            "Rule": "nightly",
            "Targets": [
                {"Id": "1", "Arn": "a", "RoleArn": f"arn:aws:iam::{ACCOUNT}:role/events-start-nightly"},
                {"Id": "2", "Arn": "b", "RoleArn": "events-other"},
            ],
        },
        "events.amazonaws.com",
    ),
]


@pytest.mark.parametrize("call", UNREAD_BESIDE_READ, ids=lambda call: f"{call[0]}.{call[1]}")
def test_a_role_read_beside_one_that_went_unread_does_not_narrow_pass_role(
    recorder: CallRecorder, session: Any, action_map: ActionMap, call: tuple[str, str, dict[str, Any], str]
) -> None:
    """A request that passes a role by name or instance profile (which IAM resolves to a role the proxy cannot
    name) beside one by ARN was granted PassRole on the ARN alone: the other was denied."""
    service, operation, params, passed_to = call
    policy, _ = policy_of(recorder, action_map, sent(session, service, operation, params))
    context = {"iam:PassedToService": passed_to}
    assert_policy_allows(
        policy, [Request("iam:PassRole", f"arn:aws:iam::{ACCOUNT}:role/unread-one", ACCOUNT, context=context)]
    )
