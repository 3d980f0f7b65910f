"""A demo Lambda function: the same few AWS calls in Python (CSM pointed at the collector) or in Node.js (the
JavaScript SDK v3, instrumented by the ADOT layer, exporting every AWS SDK span to the collector over
OTLP/HTTP). In the workloads' subnets with the workload security group, allowed exactly the calls it makes
(and the logging and VPC networking Lambda needs).

The Node.js code is the plain folder `lambda_demo_node/` (no bundling, no npm install): the @aws-sdk/client-*
packages are the ones the runtime ships, and the OpenTelemetry SDK with its AWS SDK instrumentation comes from
the ADOT layer of the stack's region (aws-cdk-lib's region-info facts; a CloudFormation mapping when the stack
is environment-agnostic), whose wrapper loads them before the handler."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from collector_runtime.contract import (
    ADOT_EXEC_WRAPPERS,
    CSM_CLIENT_ID,
    CSM_ENABLED,
    CSM_HOST,
    CSM_PORT,
    otlp_endpoint,
    otlp_environment,
)

from .collector_package import REPO_ROOT
from .csm_aspect import add_adot_layer
from .nag import acknowledge, ignore_in_cfn_lint
from .placement import CollectorPorts, Placement, lambda_architecture

DEMO_PREFIX = "demo/"
VPC_NETWORKING_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


@dataclass(frozen=True)
class DemoLanguage:
    """What differs between the demos: runtime, code, size, and how the calls reach the collector."""

    name_suffix: str  # the function is `<name>-<suffix>`
    runtime: lambda_.Runtime
    handler: str
    code_dir: Path
    code_exclude: tuple[str, ...]
    memory_size: int
    otlp: bool  # False: CSM datagrams; True: the ADOT layer and OpenTelemetry over OTLP/HTTP
    description: str
    role_description: str
    runtime_reason: str


PYTHON = DemoLanguage(
    name_suffix="demo",
    runtime=lambda_.Runtime.PYTHON_3_12,
    handler="handler.handler",
    code_dir=REPO_ROOT / "lambda_demo",
    code_exclude=("__pycache__", "*.pyc", "__init__.py"),
    memory_size=256,
    otlp=False,
    description="csm-collector demo: a few AWS calls with Client-Side Monitoring on",
    role_description="csm-collector demo: exactly the calls the demo makes, its logs, its VPC networking",
    runtime_reason="Pinned on purpose to python3.12, a supported runtime, so a CDK upgrade never changes the demo's "
    "runtime unnoticed",
)
NODEJS = DemoLanguage(
    name_suffix="demo-node",
    runtime=lambda_.Runtime.NODEJS_22_X,
    handler="index.handler",
    code_dir=REPO_ROOT / "lambda_demo_node",
    code_exclude=(),
    memory_size=512,  # the ADOT layer's SDK and its embedded collector need more than the Python demo
    otlp=True,
    description="csm-collector demo: the same AWS calls from the JavaScript SDK v3, traced with OpenTelemetry",
    role_description="csm-collector Node.js demo: exactly the calls the demo makes, its logs, its VPC networking",
    runtime_reason="Pinned on purpose to nodejs22.x, a supported runtime the ADOT JavaScript layer instruments, so a "
    "CDK upgrade never changes the demo's runtime unnoticed",
)


@dataclass(frozen=True)
class CollectorEndpoint:
    """Where the collector listens (its address is a token until deploy time) and its SSM address parameter."""

    address: str
    ports: CollectorPorts
    address_parameter_name: str


class DemoFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        language: DemoLanguage,
        function_name: str,
        placement: Placement,
        bucket: s3.IBucket,
        collector: CollectorEndpoint,
    ) -> None:
        super().__init__(scope, construct_id)
        object_key = f"{DEMO_PREFIX}{function_name}.json"
        role, log_group = demo_role(
            self,
            bucket=bucket,
            address_parameter_name=collector.address_parameter_name,
            object_key=object_key,
            description=language.role_description,
        )
        reporting = (
            otlp_environment(
                otlp_endpoint(collector.address, collector.ports.otlp),
                service_name=function_name,
                exec_wrapper=ADOT_EXEC_WRAPPERS["nodejs"],
            )
            if language.otlp
            else csm_environment(collector.address, collector.ports.csm, client_id=function_name)
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=function_name,
            description=language.description,
            runtime=language.runtime,
            architecture=lambda_architecture(placement.architecture),
            handler=language.handler,
            code=lambda_.Code.from_asset(str(language.code_dir), exclude=list(language.code_exclude) or None),
            role=role,
            vpc=placement.vpc,
            vpc_subnets=placement.subnets,
            security_groups=[placement.security_group],
            timeout=cdk.Duration.seconds(30),
            memory_size=language.memory_size,
            log_group=log_group,
            environment={
                **reporting,
                "RESULTS_BUCKET": bucket.bucket_name,
                "DEMO_OBJECT_KEY": object_key,
                "COLLECTOR_ADDRESS_PARAMETER": collector.address_parameter_name,
                # So STS calls use the regional endpoint (the one a VPC endpoint serves).
                "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            },
        )
        if language.otlp:
            add_adot_layer(self.function)  # the layer of the function's architecture, for the stack's region
        acknowledge_vpc_networking(role)
        acknowledge(self.function, "AwsSolutions-L1", language.runtime_reason)
        # CDK adds an explicit DependsOn on the role next to the GetAtt: redundant, harmless.
        ignore_in_cfn_lint(self.function, ["W3005"])


def demo_role(
    scope: Construct,
    *,
    bucket: s3.IBucket,
    address_parameter_name: str,
    object_key: str,
    description: str,
) -> tuple[iam.Role, logs.LogGroup]:
    """A demo function's role (exactly its calls, its own log group, the VPC networking Lambda needs) and
    that log group."""
    log_group = logs.LogGroup(
        scope, "Logs", retention=logs.RetentionDays.ONE_WEEK, removal_policy=cdk.RemovalPolicy.DESTROY
    )
    address_parameter_arn = cdk.Stack.of(scope).format_arn(
        service="ssm", resource="parameter", resource_name=address_parameter_name.lstrip("/")
    )
    write_logs = iam.PolicyStatement(
        actions=["logs:CreateLogStream", "logs:PutLogEvents"], resources=[log_group.log_group_arn]
    )
    role = iam.Role(
        scope,
        "Role",
        assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
        description=description,
        inline_policies={
            "DemoCalls": demo_calls_policy(bucket, address_parameter_arn, object_key),
            "WriteLogs": iam.PolicyDocument(statements=[write_logs]),
            "VpcNetworking": iam.PolicyDocument(
                statements=[iam.PolicyStatement(actions=list(VPC_NETWORKING_ACTIONS), resources=["*"])]
            ),
        },
    )
    return role, log_group


def acknowledge_vpc_networking(role: iam.Role) -> None:
    acknowledge(
        role,
        "AwsSolutions-IAM5[Resource::*]",
        "Lambda in a VPC manages the function's network interfaces with this role: ec2:DescribeNetworkInterfaces "
        "and ec2:DescribeSubnets support no resource-level permissions, and the create, delete and assign "
        "actions keep * as in AWS's AWSLambdaVPCAccessExecutionRole (the interfaces do not exist before Lambda "
        "creates them)",
    )


def csm_environment(host: str, port: int, *, client_id: str) -> dict[str, str]:
    """What any SDK needs to report its calls to the collector (the same four variables work for your code)."""
    return {
        CSM_ENABLED: "true",
        CSM_HOST: host,
        CSM_PORT: str(port),
        CSM_CLIENT_ID: client_id,
    }


def demo_calls_policy(bucket: s3.IBucket, address_parameter_arn: str, object_key: str) -> iam.PolicyDocument:
    """sts:GetCallerIdentity needs no permission; the rest is one object, one listing prefix, one parameter."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="DemoObject",
                actions=["s3:PutObject", "s3:GetObject"],
                resources=[bucket.arn_for_objects(object_key)],
            ),
            iam.PolicyStatement(
                sid="ListDemoPrefix",
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringEquals": {"s3:prefix": DEMO_PREFIX}},
            ),
            iam.PolicyStatement(
                sid="ReadCollectorAddress", actions=["ssm:GetParameter"], resources=[address_parameter_arn]
            ),
        ]
    )
