"""The EC2 collector: a small instance (Graviton by default) in a private subnet running `csm-collector listen` under
systemd, reachable only through Session Manager (no SSH port, no key pair), IMDSv2 only, encrypted volume,
logs shipped to CloudWatch by the CloudWatch agent, a role allowing exactly what it does, and a deploy that
waits until the collector listens (collector_ready.py)."""

from __future__ import annotations

from collections.abc import Mapping

import aws_cdk as cdk
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from . import boot_signal, collector_boot
from .collector_package import CollectorPackage
from .collector_ready import URL_PLACEHOLDER, CollectorReadiness
from .instances import al2023_image, encrypted_root_volume, standard_cpu_credits
from .nag import accept_image_resolved_at_launch, acknowledge, cfn_resource
from .placement import CollectorPorts, Placement, Publishing
from .publishing import publishing_environment

SESSION_MANAGER_ACTIONS = (
    "ssm:UpdateInstanceInformation",
    "ssmmessages:CreateControlChannel",
    "ssmmessages:CreateDataChannel",
    "ssmmessages:OpenControlChannel",
    "ssmmessages:OpenDataChannel",
)


class Ec2Collector(Construct):
    """`instance` runs the collector; `address` is its private IP (stable: updates restart, never replace)."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        placement: Placement,
        ports: CollectorPorts,
        publishing: Publishing,
        instance_type: str,
        extra_environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        self.log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        package = CollectorPackage(self, "Package", architecture=placement.architecture)
        role = iam.Role(
            self,
            "Role",
            assumed_by=iam.ServicePrincipal("ec2.amazonaws.com"),
            description="csm-collector EC2 instance: Session Manager, its package, its logs, its results",
            managed_policies=[publishing.policy],
            inline_policies={
                "SessionManager": session_manager_policy(),
                "ReadPackage": read_package_policy(package.asset),
                "WriteLogs": write_logs_policy(self.log_group),
            },
        )
        environment = collector_environment(
            bucket_name=publishing.bucket.bucket_name,
            s3_prefix=publishing.s3_prefix,
            ssm_prefix=publishing.ssm_prefix,
            region=cdk.Aws.REGION,
        ) | dict(extra_environment or {})

        def user_data(signal_url: str) -> ec2.UserData:
            return boot_user_data(
                package.asset,
                port=ports.csm,
                otlp_port=ports.otlp,
                environment=environment,
                log_group=self.log_group,
                signal_url=signal_url,
            )

        self.readiness = CollectorReadiness(self, "Ready")
        self.instance = ec2.Instance(
            self,
            "Instance",
            vpc=placement.vpc,
            vpc_subnets=placement.subnets,
            instance_type=ec2.InstanceType(instance_type),
            machine_image=al2023_image(placement.architecture),
            role=role,
            security_group=placement.security_group,
            require_imdsv2=True,
            associate_public_ip_address=False,
            credit_specification=standard_cpu_credits(instance_type),
            block_devices=[encrypted_root_volume()],
            user_data=user_data(self.readiness.url),
            user_data_causes_replacement=False,
        )
        self.readiness.wait_for(cfn_resource(self.instance), renamed_after=lambda: user_data(URL_PLACEHOLDER).render())
        self.address = self.instance.instance_private_ip
        self._acknowledge(role)

    def _acknowledge(self, role: iam.Role) -> None:
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "Session Manager's agent: the ssmmessages channel actions support no resource-level permissions; "
            "ssm:UpdateInstanceInformation could name only this instance, which its own role cannot (the instance "
            "depends on the role), so it keeps * as in AWS's minimal Session Manager instance policy",
        )
        accept_image_resolved_at_launch(self.instance)
        acknowledge(
            self.instance,
            "AwsSolutions-EC28",
            "One collector: basic 5-minute metrics are enough; detailed monitoring would add about $2/month",
        )
        acknowledge(
            self.instance,
            "AwsSolutions-EC29",
            "The collector is torn down with `cdk destroy`, which termination protection would block; results "
            "meant to outlive it belong in the retained S3 bucket",
        )


def collector_environment(*, bucket_name: str, s3_prefix: str, ssm_prefix: str, region: str) -> dict[str, str]:
    """The unit's `Environment=` settings: where to publish, and the region."""
    return {
        **publishing_environment(bucket_name=bucket_name, s3_prefix=s3_prefix, ssm_prefix=ssm_prefix, region=region),
        "AWS_REGION": region,
    }


def session_manager_policy() -> iam.PolicyDocument:
    """The minimum for `aws ssm start-session` (no Run Command, no S3/KMS session logging)."""
    return iam.PolicyDocument(
        statements=[iam.PolicyStatement(sid="SessionManager", actions=list(SESSION_MANAGER_ACTIONS), resources=["*"])]
    )


def read_package_policy(asset: s3_assets.Asset) -> iam.PolicyDocument:
    """The one object the user data downloads, nothing else in the CDK assets bucket."""
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="ReadCollectorPackage",
                actions=["s3:GetObject"],
                resources=[asset.bucket.arn_for_objects(asset.s3_object_key)],
            )
        ]
    )


def write_logs_policy(log_group: logs.ILogGroup) -> iam.PolicyDocument:
    return iam.PolicyDocument(
        statements=[
            iam.PolicyStatement(
                sid="ShipCollectorLog",
                actions=["logs:CreateLogStream", "logs:PutLogEvents", "logs:DescribeLogStreams"],
                resources=[log_group.log_group_arn],
            )
        ]
    )


def boot_user_data(
    asset: s3_assets.Asset,
    *,
    port: int,
    environment: dict[str, str],
    log_group: logs.ILogGroup,
    signal_url: str,
    otlp_port: int | None = None,
) -> ec2.UserData:
    """A multipart user data: a cloud-config part (run scripts at every boot) and the boot script, which
    signals `signal_url` once the collector listens (or fails, with the reason)."""
    script = ec2.UserData.for_linux()
    script.add_commands(collector_boot.STRICT_MODE, *boot_signal.signal_setup(signal_url, collector_boot.LOG_FILE))
    package_zip = script.add_s3_download_command(
        bucket=asset.bucket, bucket_key=asset.s3_object_key, region=cdk.Aws.REGION
    )
    script.add_commands(
        *collector_boot.boot_commands(
            package_zip=package_zip,
            port=port,
            otlp_port=otlp_port,
            environment=environment,
            log_group_name=log_group.log_group_name,
        ),
        *boot_signal.readiness_commands(
            service=collector_boot.SERVICE_NAME, port=port, log_file=collector_boot.LOG_FILE
        ),
    )
    user_data = ec2.MultipartUserData()
    user_data.add_part(
        ec2.MultipartBody.from_raw_body(
            content_type='text/cloud-config; charset="us-ascii"', body=collector_boot.RUN_SCRIPTS_AT_EVERY_BOOT
        )
    )
    user_data.add_user_data_part(script, ec2.MultipartBody.SHELL_SCRIPT, True)
    return user_data
