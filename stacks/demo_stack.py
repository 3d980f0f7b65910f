"""Demo: two Lambda functions that make the same few AWS calls, one in Python with CSM pointed at the collector,
one in Node.js (the JavaScript SDK v3) with OpenTelemetry pointed at it. Optional."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from collector_runtime.contract import otlp_endpoint

from .demo_function import DemoFunction
from .node_demo_function import NodeDemoFunction


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
        collector_otlp_port: int,
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
        node = NodeDemoFunction(
            self,
            "NodeDemo",
            vpc=vpc,
            subnets=workload_subnets,
            security_group=workload_security_group,
            bucket=bucket,
            otlp_endpoint=otlp_endpoint(collector_address, collector_otlp_port),
            address_parameter_name=address_parameter_name,
        )
        name, node_name = demo.function.function_name, node.function.function_name
        cdk.CfnOutput(self, "DemoFunctionName", value=name)
        cdk.CfnOutput(self, "InvokeCommand", value=f"aws lambda invoke --function-name {name} out.json")
        cdk.CfnOutput(self, "NodeDemoFunctionName", value=node_name)
        cdk.CfnOutput(self, "NodeInvokeCommand", value=f"aws lambda invoke --function-name {node_name} out.json")
