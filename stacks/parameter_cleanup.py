"""Deleting the storage stack deletes the SSM parameters the collector created at run time under its policies
path (CloudFormation does not know them; Advanced-tier ones bill monthly): a small Lambda-backed custom
resource (lambda_cleanup/handler.py) with a role allowing exactly that and a log group kept one week."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_logs as logs
from constructs import Construct

from .collector_package import REPO_ROOT
from .config import Architecture
from .nag import acknowledge, ignore_in_cfn_lint
from .placement import lambda_architecture

CLEANUP_DIR = REPO_ROOT / "lambda_cleanup"
RESOURCE_TYPE = "Custom::CsmRuntimeParameterCleanup"


class RuntimeParameterCleanup(Construct):
    """On stack delete, deletes every parameter under `path` (e.g. `/csm-collector/policies`)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, path: str, architecture: Architecture = Architecture.ARM64
    ) -> None:
        super().__init__(scope, construct_id)
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_WEEK, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"),
            description="csm-collector teardown: delete the collector's runtime parameters under its path",
            inline_policies={"DeleteRuntimeParameters": cleanup_policy(self, path, log_group)},
        )
        self.function = lambda_.Function(
            self,
            "Function",
            description=f"csm-collector: on stack delete, delete the SSM parameters under {path}",
            runtime=lambda_.Runtime.PYTHON_3_14,
            architecture=lambda_architecture(architecture),
            handler="handler.handler",
            code=lambda_.Code.from_asset(str(CLEANUP_DIR), exclude=["__pycache__", "*.pyc", "__init__.py"]),
            role=role,
            timeout=cdk.Duration.minutes(5),
            memory_size=256,
            log_group=log_group,
        )
        self.resource = cdk.CustomResource(
            self,
            "Resource",
            service_token=self.function.function_arn,
            resource_type=RESOURCE_TYPE,
            properties={"Path": path},
        )
        # CDK adds an explicit DependsOn on the role next to the GetAtt: redundant, harmless.
        ignore_in_cfn_lint(self.function, ["W3005"])
        acknowledge(
            role,
            f"AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter{path}/*]",
            f"The collector creates one parameter per workload under {path}/ at run time; deleting them needs "
            "the wildcard, which is that path",
        )


def cleanup_policy(scope: Construct, path: str, log_group: logs.ILogGroup) -> iam.PolicyDocument:
    """List and delete under `path` only, read this stack's own status, write its own log group."""
    stack = cdk.Stack.of(scope)
    name = path.strip("/")
    parameters = stack.format_arn(service="ssm", resource="parameter", resource_name=f"{name}/*")
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="ListRuntimeParameters",
                actions=["ssm:GetParametersByPath"],
                resources=[stack.format_arn(service="ssm", resource="parameter", resource_name=name), parameters],
            ),
            iam.PolicyStatement(
                sid="DeleteRuntimeParameters", actions=["ssm:DeleteParameters"], resources=[parameters]
            ),
            iam.PolicyStatement(
                sid="IsTheStackBeingDeleted", actions=["cloudformation:DescribeStacks"], resources=[stack.stack_id]
            ),
            iam.PolicyStatement(
                sid="WriteOwnLog",
                actions=["logs:CreateLogStream", "logs:PutLogEvents"],
                resources=[log_group.log_group_arn],
            ),
        ]
    )
