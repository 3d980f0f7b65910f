"""How the private subnets reach AWS APIs: one NAT instance (default), one NAT gateway, or interface
endpoints in one AZ and no internet at all. The S3 and DynamoDB gateway endpoints are always added."""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2

from .config import Architecture, CollectorKind, Egress
from .instances import al2023_image, dnf_install_commands, standard_cpu_credits

SUBNET_CIDR_MASK = 24
# CDK's default NAT user data fails now and then on AL2023: its single `yum install` can lose a race with
# dnf's own cache cleanup (see dnf_install_commands). Same steps, with the shared retried install, `ip route`
# for the interface and `iptables-save` (AL2023 has no `service` command without initscripts).
NAT_PACKAGES = ("iptables-services",)
NAT_INSTANCE_COMMANDS = (
    "set -euo pipefail",
    *dnf_install_commands(NAT_PACKAGES),
    "systemctl enable --now iptables",
    'echo "net.ipv4.ip_forward=1" > /etc/sysctl.d/90-nat-instance.conf',
    "sysctl -p /etc/sysctl.d/90-nat-instance.conf",
    "iptables -t nat -A POSTROUTING -o \"$(ip route show default | awk '{print $5; exit}')\" -j MASQUERADE",
    "iptables -F FORWARD",
    "iptables-save > /etc/sysconfig/iptables",
)


def workload_subnet_type(egress: Egress) -> ec2.SubnetType:
    return ec2.SubnetType.PRIVATE_ISOLATED if egress is Egress.ENDPOINTS else ec2.SubnetType.PRIVATE_WITH_EGRESS


def subnet_layout(egress: Egress) -> list[ec2.SubnetConfiguration]:
    """Private subnets for workloads in both AZs; public subnets only when a NAT needs them."""
    private = ec2.SubnetConfiguration(
        name="private", subnet_type=workload_subnet_type(egress), cidr_mask=SUBNET_CIDR_MASK
    )
    if egress is Egress.ENDPOINTS:
        return [private]
    public = ec2.SubnetConfiguration(name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=SUBNET_CIDR_MASK)
    return [public, private]


def nat_gateway_count(egress: Egress) -> int:
    """One NAT (instance or gateway) serves both AZs: cheaper, at the price of cross-AZ egress traffic."""
    return 0 if egress is Egress.ENDPOINTS else 1


def nat_instance_user_data() -> ec2.UserData:
    user_data = ec2.UserData.for_linux()
    user_data.add_commands(*NAT_INSTANCE_COMMANDS)
    return user_data


def nat_provider(
    egress: Egress, nat_instance_type: str, architecture: Architecture = Architecture.ARM64
) -> ec2.NatProvider | None:
    if egress is Egress.NAT_INSTANCE:
        return ec2.NatProvider.instance_v2(
            instance_type=ec2.InstanceType(nat_instance_type),
            machine_image=al2023_image(architecture),
            user_data=nat_instance_user_data(),
            default_allowed_traffic=ec2.NatTrafficDirection.OUTBOUND_ONLY,
            credit_specification=standard_cpu_credits(nat_instance_type),
        )
    if egress is Egress.NAT_GATEWAY:
        return ec2.NatProvider.gateway()
    return None


def interface_endpoint_services(collector: CollectorKind) -> dict[str, ec2.InterfaceVpcEndpointAwsService]:
    """What the collector, the demo Lambda and Session Manager / ECS Exec call, when there is no internet."""
    services = {
        "Ssm": ec2.InterfaceVpcEndpointAwsService.SSM,
        "SsmMessages": ec2.InterfaceVpcEndpointAwsService.SSM_MESSAGES,
        "Ec2Messages": ec2.InterfaceVpcEndpointAwsService.EC2_MESSAGES,
        "Logs": ec2.InterfaceVpcEndpointAwsService.CLOUDWATCH_LOGS,
        "Sts": ec2.InterfaceVpcEndpointAwsService.STS,
    }
    if collector is CollectorKind.FARGATE:
        services["EcrApi"] = ec2.InterfaceVpcEndpointAwsService.ECR
        services["EcrDocker"] = ec2.InterfaceVpcEndpointAwsService.ECR_DOCKER
    return services
