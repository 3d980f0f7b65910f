"""The Node.js demo Lambda: the JavaScript SDK v3 (bundled with the runtime) making the Python demo's calls,
instrumented by the ADOT Lambda layer and exporting every AWS SDK span to the collector over OTLP/HTTP.

Its code is the plain folder `lambda_demo_node/` (no bundling, no npm install): the @aws-sdk/client-* packages
are the ones the Node.js runtime ships, and the OpenTelemetry SDK with its AWS SDK instrumentation comes from
the ADOT layer, whose wrapper (AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler) loads them before the handler. Same
private subnets, workload security group (it reaches the collector's TCP port) and exact role as the Python
demo, for its own object key."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3
from constructs import Construct

from collector_runtime.contract import ADOT_EXEC_WRAPPERS, otlp_environment

from .collector_package import REPO_ROOT
from .csm_aspect import add_adot_layer
from .demo_function import DEMO_PREFIX, acknowledge_vpc_networking, demo_role
from .nag import acknowledge, ignore_in_cfn_lint

FUNCTION_NAME = "csm-collector-demo-node"
DEMO_OBJECT_KEY = f"{DEMO_PREFIX}{FUNCTION_NAME}.json"
LAMBDA_DIR = REPO_ROOT / "lambda_demo_node"


class NodeDemoFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        bucket: s3.IBucket,
        otlp_endpoint: str,
        address_parameter_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        role, log_group = demo_role(
            self,
            bucket=bucket,
            address_parameter_name=address_parameter_name,
            object_key=DEMO_OBJECT_KEY,
            description="csm-collector Node.js demo: exactly the calls the demo makes, its logs, its VPC networking",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=FUNCTION_NAME,
            description="csm-collector demo: the same AWS calls from the JavaScript SDK v3, traced with OpenTelemetry",
            runtime=lambda_.Runtime.NODEJS_22_X,
            architecture=lambda_.Architecture.ARM_64,
            handler="index.handler",
            code=lambda_.Code.from_asset(str(LAMBDA_DIR)),
            role=role,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            timeout=cdk.Duration.seconds(30),
            memory_size=512,  # the ADOT layer's SDK and its embedded collector need more than the Python demo
            log_group=log_group,
            environment={
                **otlp_environment(
                    otlp_endpoint, service_name=FUNCTION_NAME, exec_wrapper=ADOT_EXEC_WRAPPERS["nodejs"]
                ),
                "RESULTS_BUCKET": bucket.bucket_name,
                "DEMO_OBJECT_KEY": DEMO_OBJECT_KEY,
                "COLLECTOR_ADDRESS_PARAMETER": address_parameter_name,
                "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            },
        )
        add_adot_layer(self.function)
        acknowledge_vpc_networking(role)
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned on purpose to nodejs22.x, a supported runtime the ADOT JavaScript layer instruments, so a CDK "
            "upgrade never changes the demo's runtime unnoticed",
        )
        ignore_in_cfn_lint(self.function, ["W3005"])
