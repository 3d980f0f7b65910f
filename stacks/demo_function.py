"""The demo Lambda: Python, ARM64, in the private subnets with the workload security group, CSM pointed at
the collector, allowed exactly the calls it makes (and the logging and VPC networking Lambda needs)."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from collector_runtime.contract import CSM_CLIENT_ID, CSM_ENABLED, CSM_HOST, CSM_PORT

from .collector_package import REPO_ROOT
from .nag import acknowledge, ignore_in_cfn_lint

FUNCTION_NAME = "csm-collector-demo"
DEMO_PREFIX = "demo/"
DEMO_OBJECT_KEY = f"{DEMO_PREFIX}{FUNCTION_NAME}.json"
LAMBDA_DIR = REPO_ROOT / "lambda_demo"
VPC_NETWORKING_ACTIONS = (
    "ec2:CreateNetworkInterface",
    "ec2:DescribeNetworkInterfaces",
    "ec2:DescribeSubnets",
    "ec2:DeleteNetworkInterface",
    "ec2:AssignPrivateIpAddresses",
    "ec2:UnassignPrivateIpAddresses",
)


class DemoFunction(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        security_group: ec2.ISecurityGroup,
        bucket: s3.IBucket,
        collector_address: str,
        collector_port: int,
        address_parameter_name: str,
    ) -> None:
        super().__init__(scope, construct_id)
        role, log_group = demo_role(
            self,
            bucket=bucket,
            address_parameter_name=address_parameter_name,
            object_key=DEMO_OBJECT_KEY,
            description="csm-collector demo: exactly the calls the demo makes, its logs, its VPC networking",
        )
        self.function = lambda_.Function(
            self,
            "Function",
            function_name=FUNCTION_NAME,
            description="csm-collector demo: a few AWS calls with Client-Side Monitoring on",
            runtime=lambda_.Runtime.PYTHON_3_12,
            architecture=lambda_.Architecture.ARM_64,
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(LAMBDA_DIR), exclude=["__pycache__", "*.pyc", "__init__.py"]),
            role=role,
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[security_group],
            timeout=cdk.Duration.seconds(30),
            memory_size=256,
            log_group=log_group,
            environment={
                **csm_environment(collector_address, collector_port, client_id=FUNCTION_NAME),
                "RESULTS_BUCKET": bucket.bucket_name,
                "DEMO_OBJECT_KEY": DEMO_OBJECT_KEY,
                "COLLECTOR_ADDRESS_PARAMETER": address_parameter_name,
                # So STS calls use the regional endpoint (the one a VPC endpoint serves).
                "AWS_STS_REGIONAL_ENDPOINTS": "regional",
            },
        )
        self._acknowledge(role)
        # CDK adds an explicit DependsOn on the role next to the GetAtt: redundant, harmless.
        ignore_in_cfn_lint(self.function, ["W3005"])

    def _acknowledge(self, role: iam.Role) -> None:
        acknowledge_vpc_networking(role)
        acknowledge(
            self.function,
            "AwsSolutions-L1",
            "Pinned on purpose to python3.12, a supported runtime, so a CDK upgrade never changes the demo's "
            "runtime unnoticed",
        )


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


def demo_calls_policy(
    bucket: s3.IBucket, address_parameter_arn: str, object_key: str = DEMO_OBJECT_KEY
) -> iam.PolicyDocument:
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
