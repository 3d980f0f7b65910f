"""The VPC: two AZs, private workload subnets, the egress each setting asks for, free gateway endpoints,
flow logs and the workload security group."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from stacks.app_builder import NETWORK_STACK
from stacks.config import CollectorKind
from stacks.egress import interface_endpoint_services
from tests.infra.synth import SynthesizedApp, render_text

pytestmark = pytest.mark.slow

AL2023_AT_LAUNCH = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"


def endpoint_services(app: SynthesizedApp, endpoint_type: str) -> list[str]:
    """Service names of the VPC endpoints, e.g. `s3`, `ssmmessages`, `ecr.dkr` (region-independent)."""
    names = []
    for _, endpoint in app.resources(NETWORK_STACK, "AWS::EC2::VPCEndpoint").items():
        properties = endpoint["Properties"]
        if properties.get("VpcEndpointType", "Gateway") == endpoint_type:
            names.append(service_suffix(properties["ServiceName"]))
    return sorted(names)


def service_suffix(service_name: dict[str, Any]) -> str:
    """`{"Fn::Join": ["", ["com.amazonaws.", {"Ref": "AWS::Region"}, ".ecr.dkr"]]}` -> `ecr.dkr`."""
    parts = service_name["Fn::Join"][1]
    after_region = parts[parts.index({"Ref": "AWS::Region"}) + 1 :]
    return "".join(after_region).lstrip(".")


def test_two_azs_with_private_subnets_for_workloads(ec2: SynthesizedApp) -> None:
    template = ec2.template(NETWORK_STACK)
    template.resource_count_is("AWS::EC2::VPC", 1)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.42.0.0/16"})
    template.resource_count_is("AWS::EC2::Subnet", 4)
    template.resource_properties_count_is("AWS::EC2::Subnet", {"MapPublicIpOnLaunch": False}, 2)


def test_gateway_endpoints_for_s3_and_dynamodb_are_always_there(
    ec2: SynthesizedApp, ec2_custom: SynthesizedApp, fargate_endpoints: SynthesizedApp
) -> None:
    for app in (ec2, ec2_custom, fargate_endpoints):
        assert endpoint_services(app, "Gateway") == ["dynamodb", "s3"]


def test_default_egress_is_one_small_graviton_nat_instance(ec2: SynthesizedApp) -> None:
    template = ec2.template(NETWORK_STACK)
    template.resource_count_is("AWS::EC2::NatGateway", 0)
    template.has_resource_properties(
        "AWS::EC2::Instance",
        {
            "InstanceType": "t4g.nano",
            "ImageId": AL2023_AT_LAUNCH,
            "SourceDestCheck": False,
            "CreditSpecification": {"CPUCredits": "standard"},
            "BlockDeviceMappings": [Match.object_like({"Ebs": Match.object_like({"Encrypted": True})})],
        },
    )
    template.resource_count_is("AWS::EC2::Instance", 1)
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}}
    )
    assert endpoint_services(ec2, "Interface") == []


def test_the_nat_instance_accepts_only_https_from_the_vpc(ec2: SynthesizedApp) -> None:
    ec2.template(NETWORK_STACK).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "Security Group for NAT instances",
            "SecurityGroupIngress": [
                {
                    "CidrIp": "10.42.0.0/16",
                    "IpProtocol": "tcp",
                    "FromPort": 443,
                    "ToPort": 443,
                    "Description": Match.any_value(),
                }
            ],
        },
    )


def test_the_nat_instance_sets_up_masquerading_and_retries_the_package_install(ec2: SynthesizedApp) -> None:
    _, nat = ec2.only_resource(NETWORK_STACK, "AWS::EC2::Instance")
    script = render_text(nat["Properties"]["UserData"])
    assert "dnf install -y iptables-services && break" in script
    assert "sysctl -p /etc/sysctl.d/90-nat-instance.conf" in script
    assert "-j MASQUERADE" in script
    assert script.endswith("iptables-save > /etc/sysconfig/iptables")


def test_both_private_subnets_route_through_the_one_nat(ec2: SynthesizedApp) -> None:
    routes = [
        route["Properties"]
        for route in ec2.resources(NETWORK_STACK, "AWS::EC2::Route").values()
        if "InstanceId" in route["Properties"]
    ]
    assert len(routes) == 2
    assert len({str(route["InstanceId"]) for route in routes}) == 1


def test_nat_gateway_egress_is_one_nat_gateway_and_no_instance(ec2_custom: SynthesizedApp) -> None:
    template = ec2_custom.template(NETWORK_STACK)
    template.resource_count_is("AWS::EC2::NatGateway", 1)
    template.resource_count_is("AWS::EC2::Instance", 0)
    template.has_resource_properties("AWS::EC2::VPC", {"CidrBlock": "10.9.0.0/20"})


def test_endpoints_egress_has_no_internet_and_endpoints_in_one_az(fargate_endpoints: SynthesizedApp) -> None:
    template = fargate_endpoints.template(NETWORK_STACK)
    for resource_type in ("AWS::EC2::InternetGateway", "AWS::EC2::NatGateway", "AWS::EC2::Instance"):
        template.resource_count_is(resource_type, 0)
    template.resource_count_is("AWS::EC2::Subnet", 2)
    assert endpoint_services(fargate_endpoints, "Interface") == sorted(
        ["ssm", "ssmmessages", "ec2messages", "logs", "sts", "ecr.api", "ecr.dkr"]
    )
    subnets = {
        str(endpoint["Properties"]["SubnetIds"])
        for endpoint in fargate_endpoints.resources(NETWORK_STACK, "AWS::EC2::VPCEndpoint").values()
        if endpoint["Properties"].get("VpcEndpointType") == "Interface"
    }
    assert len(subnets) == 1
    assert subnets.pop().count("Ref") == 1
    template.has_resource_properties(
        "AWS::EC2::VPCEndpoint", {"VpcEndpointType": "Interface", "PrivateDnsEnabled": True}
    )


def test_ecr_endpoints_only_when_the_collector_is_a_container() -> None:
    ec2_services = set(interface_endpoint_services(CollectorKind.EC2))
    fargate_services = set(interface_endpoint_services(CollectorKind.FARGATE))
    assert fargate_services - ec2_services == {"EcrApi", "EcrDocker"}
    assert ec2_services == {"Ssm", "SsmMessages", "Ec2Messages", "Logs", "Sts"}


def test_endpoint_security_group_allows_https_from_the_vpc_only(fargate_endpoints: SynthesizedApp) -> None:
    fargate_endpoints.template(NETWORK_STACK).has_resource_properties(
        "AWS::EC2::SecurityGroup",
        {
            "GroupDescription": "Interface endpoints: HTTPS from the VPC",
            "SecurityGroupIngress": [Match.object_like({"CidrIp": "10.42.0.0/16", "FromPort": 443, "ToPort": 443})],
        },
    )


def test_flow_logs_go_to_cloudwatch(ec2: SynthesizedApp) -> None:
    template = ec2.template(NETWORK_STACK)
    template.has_resource_properties(
        "AWS::EC2::FlowLog", {"ResourceType": "VPC", "TrafficType": "ALL", "LogDestinationType": "cloud-watch-logs"}
    )
    template.has_resource_properties("AWS::Logs::LogGroup", {"RetentionInDays": 30})


def test_the_workload_security_group_is_exported(ec2: SynthesizedApp) -> None:
    template = ec2.template(NETWORK_STACK)
    template.has_resource_properties(
        "AWS::EC2::SecurityGroup", {"GroupDescription": Match.string_like_regexp("^csm-collector workloads")}
    )
    template.has_output("WorkloadSecurityGroupId", {"Value": {"Fn::GetAtt": [Match.any_value(), "GroupId"]}})
    assert ec2.stacks.network.workload_security_group is not None


def test_the_default_security_group_is_stripped_of_its_rules(ec2: SynthesizedApp) -> None:
    ec2.template(NETWORK_STACK).resource_count_is("Custom::VpcRestrictDefaultSG", 1)
