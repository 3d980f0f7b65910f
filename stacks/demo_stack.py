"""Demo: a Lambda function that makes a few AWS calls with CSM pointed at the collector. Optional."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .demo_function import DemoFunction


class DemoStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        workload_subnets: ec2.SubnetSelection,
        workload_security_group: ec2.ISecurityGroup,
        bucket: s3.IBucket,
        collector_address: str,
        collector_port: int,
        address_parameter_name: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description="csm-collector: demo workload (Lambda)", **kwargs)
        demo = DemoFunction(
            self,
            "Demo",
            vpc=vpc,
            subnets=workload_subnets,
            security_group=workload_security_group,
            bucket=bucket,
            collector_address=collector_address,
            collector_port=collector_port,
            address_parameter_name=address_parameter_name,
        )
        name = demo.function.function_name
        cdk.CfnOutput(self, "DemoFunctionName", value=name)
        cdk.CfnOutput(self, "InvokeCommand", value=f"aws lambda invoke --function-name {name} out.json")
