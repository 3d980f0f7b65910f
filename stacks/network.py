"""The VPC: two AZs with private subnets for workloads, the chosen egress, free gateway endpoints for S3
and DynamoDB, flow logs, and the workload security group that may send CSM datagrams to the collector."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_logs as logs
from constructs import Construct

from . import egress as egress_options
from .config import Architecture, CollectorKind, Egress
from .instances import encrypt_root_volume
from .nag import accept_image_resolved_at_launch, acknowledge, ignore_in_cfn_lint

HTTPS = ec2.Port.tcp(443)
RESTRICT_DEFAULT_SG_PROVIDER = "Custom::VpcRestrictDefaultSGCustomResourceProvider"


class CollectorNetwork(Construct):
    """VPC, egress, endpoints, flow logs and the workload security group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        egress: Egress,
        vpc_cidr: str,
        nat_instance_type: str,
        collector: CollectorKind,
        architecture: Architecture = Architecture.ARM64,
    ) -> None:
        super().__init__(scope, construct_id)
        provider = egress_options.nat_provider(egress, nat_instance_type, architecture)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr(vpc_cidr),
            max_azs=2,
            nat_gateways=egress_options.nat_gateway_count(egress),
            nat_gateway_provider=provider,
            subnet_configuration=egress_options.subnet_layout(egress),
            restrict_default_security_group=True,
        )
        self.workload_subnets = ec2.SubnetSelection(subnet_type=egress_options.workload_subnet_type(egress))
        self.workload_security_group = ec2.SecurityGroup(
            self,
            "WorkloadSecurityGroup",
            vpc=self.vpc,
            description="csm-collector workloads: attach to anything that sends CSM datagrams to the collector",
            allow_all_outbound=True,
        )
        self._add_gateway_endpoints()
        self._add_flow_logs()
        if isinstance(provider, ec2.NatInstanceProviderV2):
            self._harden_nat_instances(provider, vpc_cidr)
        if egress is Egress.ENDPOINTS:
            self._add_interface_endpoints(vpc_cidr, egress_options.interface_endpoint_services(collector))
        self._tame_cdk_default_sg_provider()

    def _add_gateway_endpoints(self) -> None:
        """Free, and what lets a private instance install packages (AL2023's repositories are on S3)."""
        self.vpc.add_gateway_endpoint("S3", service=ec2.GatewayVpcEndpointAwsService.S3)
        self.vpc.add_gateway_endpoint("DynamoDb", service=ec2.GatewayVpcEndpointAwsService.DYNAMODB)

    def _add_flow_logs(self) -> None:
        log_group = logs.LogGroup(
            self, "FlowLogs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.vpc.add_flow_log(
            "FlowLog",
            destination=ec2.FlowLogDestination.to_cloud_watch_logs(log_group),
            traffic_type=ec2.FlowLogTrafficType.ALL,
        )

    def _harden_nat_instances(self, provider: ec2.NatInstanceProviderV2, vpc_cidr: str) -> None:
        """Only HTTPS from inside the VPC (all AWS APIs), IMDSv2, an encrypted root volume."""
        provider.security_group.add_ingress_rule(ec2.Peer.ipv4(vpc_cidr), HTTPS, "HTTPS from the VPC to AWS APIs")
        for instance in provider.gateway_instances:
            cdk.Aspects.of(instance).add(ec2.InstanceRequireImdsv2Aspect())
            encrypt_root_volume(instance)
            accept_image_resolved_at_launch(instance)
            acknowledge(
                instance,
                "AwsSolutions-EC28",
                "NAT instance: basic 5-minute metrics are enough; detailed monitoring would add about $2/month",
            )
            acknowledge(
                instance,
                "AwsSolutions-EC29",
                "NAT instance holds no state; `cdk destroy` must be able to terminate it",
            )

    def _add_interface_endpoints(self, vpc_cidr: str, services: dict[str, ec2.InterfaceVpcEndpointAwsService]) -> None:
        """One AZ only (each endpoint costs per AZ-hour); the other AZ reaches them across the VPC."""
        security_group = ec2.SecurityGroup(
            self,
            "EndpointSecurityGroup",
            vpc=self.vpc,
            description="Interface endpoints: HTTPS from the VPC",
            allow_all_outbound=False,
        )
        security_group.add_ingress_rule(ec2.Peer.ipv4(vpc_cidr), HTTPS, "HTTPS from the VPC")
        one_az = ec2.SubnetSelection(subnets=[self.vpc.isolated_subnets[0]])
        for name, service in services.items():
            self.vpc.add_interface_endpoint(
                name, service=service, subnets=one_az, security_groups=[security_group], open=False
            )

    def _tame_cdk_default_sg_provider(self) -> None:
        """CDK's own provider (it strips the default security group's rules) logs to a log group Lambda would
        create on first use, kept forever and left behind by `cdk destroy`: give it one of ours, kept a week and
        deleted with the stack. It also declares a redundant DependsOn (cfn-lint W3005)."""
        provider = cdk.Stack.of(self).node.try_find_child(RESTRICT_DEFAULT_SG_PROVIDER)
        handler = provider.node.try_find_child("Handler") if provider else None
        if not isinstance(handler, cdk.CfnResource):
            return
        log_group = logs.LogGroup(
            self,
            "RestrictDefaultSgLogs",
            retention=logs.RetentionDays.ONE_WEEK,
            removal_policy=cdk.RemovalPolicy.DESTROY,
        )
        handler.add_property_override("LoggingConfig.LogGroup", log_group.log_group_name)
        ignore_in_cfn_lint(handler, ["W3005"])
