"""Network: the VPC, its egress and endpoints, and the workload security group. Changes least often."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .config import Architecture, CollectorKind, Egress
from .network import CollectorNetwork


class NetworkStack(cdk.Stack):
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
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description=f"csm-collector: VPC with {egress.value} egress", **kwargs)
        network = CollectorNetwork(
            self,
            "Network",
            egress=egress,
            vpc_cidr=vpc_cidr,
            nat_instance_type=nat_instance_type,
            collector=collector,
            architecture=architecture,
        )
        self.vpc: ec2.IVpc = network.vpc
        self.workload_security_group: ec2.ISecurityGroup = network.workload_security_group
        self.workload_subnets: ec2.SubnetSelection = network.workload_subnets
        cdk.CfnOutput(self, "VpcId", value=self.vpc.vpc_id)
        cdk.CfnOutput(
            self,
            "WorkloadSecurityGroupId",
            value=self.workload_security_group.security_group_id,
            description="Attach to your workloads so they may send CSM datagrams to the collector",
        )
        cdk.CfnOutput(
            self,
            "WorkloadSubnetIds",
            value=cdk.Fn.join(",", self.vpc.select_subnets(subnet_type=self.workload_subnets.subnet_type).subnet_ids),
        )
