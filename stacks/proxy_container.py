"""The HTTPS proxy next to the Fargate collector (`-c proxy=true`): a second container in the same task, from
the same image, with its CA key in a Secrets Manager secret only the task role can read.

Why Secrets Manager and not an SSM SecureString: the key must be written once by the proxy (it generates the
CA at its first start) and read back by every later task, and a secret takes a resource policy, which here
denies reading and writing the value to every principal but the task role (an administrator must change
that policy first, which CloudTrail records); a SecureString parameter has no resource policy, so anyone with
ssm:GetParameter on it and kms:Decrypt could read it. The proxy publishes to its own S3 prefix
(`<s3Prefix>proxy/`), never over the CSM collector's files, and its CA certificate beside its results.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as secretsmanager
from constructs import Construct

from collector_runtime.contract import PROXY_CONTAINER_METRICS_PORT, STATE_FILE, setting_variable

from .nag import acknowledge

PROXY_CONTAINER = "proxy"
# the proxy's --metrics-port (127.0.0.1): the container's health check asks it
PROXY_HEALTH_PORT = PROXY_CONTAINER_METRICS_PORT
STATE_DIR = "/var/lib/csm-collector"
SECRET_VALUE_ACTIONS = ["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue", "secretsmanager:UpdateSecret"]


class ProxyContainer(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        task_definition: ecs.FargateTaskDefinition,
        task_role: iam.Role,
        image: ecs.ContainerImage,
        port: int,
        bucket: s3.IBucket,
        s3_prefix: str,
        health: ecs.HealthCheck,
    ) -> None:
        super().__init__(scope, construct_id)
        self.secret = ca_secret(self, task_role)
        task_role.add_to_principal_policy(
            iam.PolicyStatement(  # a new task continues from the proxy's published state
                sid="ReadProxyStateAtStart",
                actions=["s3:GetObject"],
                resources=[bucket.arn_for_objects(f"{s3_prefix}{STATE_FILE}")],
            )
        )
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        self.container = task_definition.add_container(
            PROXY_CONTAINER,
            image=image,
            command=proxy_command(port, self.secret.secret_arn),
            environment=proxy_environment(bucket.bucket_name, s3_prefix),
            port_mappings=[ecs.PortMapping(container_port=port, protocol=ecs.Protocol.TCP)],
            health_check=health,
            stop_timeout=cdk.Duration.seconds(60),
            logging=ecs.LogDrivers.aws_logs(stream_prefix=PROXY_CONTAINER, log_group=log_group),
            essential=True,
        )
        acknowledge(
            self.secret,
            "AwsSolutions-SMG4",
            "The proxy's CA key: its clients trust this CA, so rotating it means redistributing the certificate; "
            "replace it deliberately (delete the value and restart the task) rather than on a schedule",
        )


def ca_secret(scope: Construct, task_role: iam.Role) -> secretsmanager.Secret:
    """A secret whose generated placeholder the proxy replaces with its CA at its first start."""
    secret = secretsmanager.Secret(
        scope,
        "CaKey",
        description="csm-collector proxy: its CA (key and certificate, PEM); read and written only by the task role",
        removal_policy=cdk.RemovalPolicy.DESTROY,
    )
    secret.grant_read(task_role)
    secret.grant_write(task_role)
    secret.add_to_resource_policy(
        iam.PolicyStatement(
            sid="OnlyTheProxyTaskRole",
            effect=iam.Effect.DENY,
            principals=[iam.AnyPrincipal()],
            actions=SECRET_VALUE_ACTIONS,
            resources=["*"],
            conditions={"ArnNotEquals": {"aws:PrincipalArn": task_role.role_arn}},
        )
    )
    return secret


def proxy_command(port: int, secret_arn: str) -> list[str]:
    return [
        "proxy",
        "--host",
        "0.0.0.0",
        "--port",
        str(port),
        "--ca-dir",
        f"{STATE_DIR}/proxy-ca",
        "--ca-secret",
        secret_arn,
        "--output-dir",
        f"{STATE_DIR}/proxy",
        "--quiet",
    ]


def proxy_environment(bucket_name: str, s3_prefix: str) -> dict[str, str]:
    """Publishing to S3 under the proxy's own prefix (no SSM: its workloads' parameters would be the collector's)."""
    return {
        setting_variable("--s3-bucket"): bucket_name,
        setting_variable("--s3-prefix"): s3_prefix,
        setting_variable("--archive"): "true",
        setting_variable("--region"): cdk.Aws.REGION,
        setting_variable("--metrics-port"): str(PROXY_HEALTH_PORT),
        "AWS_REGION": cdk.Aws.REGION,
    }
