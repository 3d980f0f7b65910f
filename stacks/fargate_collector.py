"""The Fargate collector: one task (ARM64 by default, or X86_64) built from the repo's Dockerfile for that
platform (at deploy time, on the deploying machine), logs in CloudWatch, ECS Exec for access, and a stable DNS
name from a Cloud Map private namespace that follows the task when it is replaced.

A container health check asks the collector's own `/health` endpoint (served on the task's loopback only):
it answers once the collector has bound its UDP port and set up publishing, and not at all when it exited.
A task that never gets healthy is stopped, and the deployment circuit breaker fails the deploy and rolls the
service back. Deployments stop the old task before starting the new one (minimum 0 %, maximum 100 %): one
writer of the policies and state in S3/SSM at a time, at the price of a short collection gap.
"""

from __future__ import annotations

from pathlib import Path
from typing import NamedTuple

import aws_cdk as cdk
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_servicediscovery as servicediscovery
from constructs import Construct

from collector_runtime.contract import CONTAINER_METRICS_PORT, DEFAULT_PUBLISH_TIMEOUT, setting_variable

from .collector_package import REPO_ROOT
from .nag import acknowledge
from .placement import CollectorPorts, Placement, Publishing, ecs_cpu_architecture, image_platform
from .proxy_container import ProxyContainer
from .publishing import publishing_environment

NAMESPACE = "csm.internal"
SERVICE_HOST = "collector"
CONTAINER_NAME = "collector"
TASK_CPU = 256
TASK_MEMORY_MIB = 512
HEALTH_PORT = CONTAINER_METRICS_PORT  # the collector's --metrics-port, on 127.0.0.1: reachable inside the task only
# Exits 0 when /health answers, 1 (connection refused, timeout, HTTP error) otherwise. The Dockerfile's
# HEALTHCHECK runs the same command (tests/infra/test_fargate_collector.py keeps them equal).
HEALTH_PROBE = (
    "import os, urllib.request; "
    "urllib.request.urlopen('http://127.0.0.1:%s/health' % os.environ['CSM_COLLECTOR_METRICS_PORT'], timeout=3)"
)
HEALTH_COMMAND = ("python", "-c", HEALTH_PROBE)
# The final flush and publish after SIGTERM may take the collector's publish timeout; then SIGKILL.
STOP_TIMEOUT = cdk.Duration.seconds(int(DEFAULT_PUBLISH_TIMEOUT) + 30)


class ProxySettings(NamedTuple):
    port: int
    s3_prefix: str


def health_check() -> ecs.HealthCheck:
    """The container asks its own /health (on the port its CSM_COLLECTOR_METRICS_PORT names)."""
    return ecs.HealthCheck(
        command=["CMD", *HEALTH_COMMAND],
        interval=cdk.Duration.seconds(10),
        timeout=cdk.Duration.seconds(5),
        retries=3,
        start_period=cdk.Duration.seconds(30),
    )


class FargateCollector(Construct):
    """`service` runs the collector task; `address` is its DNS name, `collector.csm.internal`."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        placement: Placement,
        ports: CollectorPorts,
        publishing: Publishing,
        proxy: ProxySettings | None = None,
        repo_root: Path = REPO_ROOT,
    ) -> None:
        super().__init__(scope, construct_id)
        bucket = publishing.bucket
        self.cluster = ecs.Cluster(
            self, "Cluster", vpc=placement.vpc, container_insights_v2=ecs.ContainerInsights.DISABLED
        )
        task_role = iam.Role(
            self,
            "TaskRole",
            assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
            description="csm-collector task: its results (ECS Exec adds its own channel permissions)",
            managed_policies=[publishing.policy],
        )
        self.task_definition = ecs.FargateTaskDefinition(
            self,
            "TaskDefinition",
            cpu=TASK_CPU * 2 if proxy else TASK_CPU,  # two Python processes with the proxy
            memory_limit_mib=TASK_MEMORY_MIB * 2 if proxy else TASK_MEMORY_MIB,
            runtime_platform=ecs.RuntimePlatform(
                cpu_architecture=ecs_cpu_architecture(placement.architecture),
                operating_system_family=ecs.OperatingSystemFamily.LINUX,
            ),
            task_role=task_role,
        )
        image = ecs.ContainerImage.from_asset(
            str(repo_root),
            platform=image_platform(placement.architecture),
            build_args={"PROXY": "true"} if proxy else None,
        )
        self.container = self._add_container(
            image,
            ports=ports,
            environment=publishing_environment(
                bucket_name=bucket.bucket_name,
                s3_prefix=publishing.s3_prefix,
                ssm_prefix=publishing.ssm_prefix,
                region=cdk.Aws.REGION,
            ),
        )
        self.proxy = None if proxy is None else self._add_proxy(proxy, task_role, image, bucket)
        self.namespace = servicediscovery.PrivateDnsNamespace(
            self,
            "Namespace",
            name=NAMESPACE,
            vpc=placement.vpc,
            description="csm-collector: stable name of the collector",
        )
        self.service = ecs.FargateService(
            self,
            "Service",
            cluster=self.cluster,
            task_definition=self.task_definition,
            desired_count=1,
            min_healthy_percent=0,
            max_healthy_percent=100,
            circuit_breaker=ecs.DeploymentCircuitBreaker(enable=True, rollback=True),
            vpc_subnets=placement.subnets,
            security_groups=[placement.security_group],
            assign_public_ip=False,
            enable_execute_command=True,
            cloud_map_options=ecs.CloudMapOptions(
                cloud_map_namespace=self.namespace,
                name=SERVICE_HOST,
                dns_record_type=servicediscovery.DnsRecordType.A,
                dns_ttl=cdk.Duration.seconds(10),
            ),
        )
        self.address = f"{SERVICE_HOST}.{NAMESPACE}"
        self._acknowledge(task_role)

    def _add_proxy(
        self, proxy: ProxySettings, task_role: iam.Role, image: ecs.ContainerImage, bucket: s3.IBucket
    ) -> ProxyContainer:
        return ProxyContainer(
            self,
            "Proxy",
            task_definition=self.task_definition,
            task_role=task_role,
            image=image,
            port=proxy.port,
            bucket=bucket,
            s3_prefix=proxy.s3_prefix,
            health=health_check(),
        )

    def _add_container(
        self, image: ecs.ContainerImage, *, ports: CollectorPorts, environment: dict[str, str]
    ) -> ecs.ContainerDefinition:
        log_group = logs.LogGroup(
            self, "Logs", retention=logs.RetentionDays.ONE_MONTH, removal_policy=cdk.RemovalPolicy.DESTROY
        )
        return self.task_definition.add_container(
            CONTAINER_NAME,
            image=image,
            environment={
                setting_variable("--port"): str(ports.csm),
                setting_variable("--otlp-port"): str(ports.otlp),
                setting_variable("--otlp-host"): "0.0.0.0",
                # TASK_CPU is a quarter of a vCPU: a decode worker process would add memory and no intake.
                setting_variable("--otlp-decode-workers"): "0",
                setting_variable("--metrics-port"): str(HEALTH_PORT),
                "AWS_REGION": cdk.Aws.REGION,
                **environment,
            },
            port_mappings=[
                ecs.PortMapping(container_port=ports.csm, protocol=ecs.Protocol.UDP),
                ecs.PortMapping(container_port=ports.otlp, protocol=ecs.Protocol.TCP),
            ],
            health_check=health_check(),
            stop_timeout=STOP_TIMEOUT,
            logging=ecs.LogDrivers.aws_logs(stream_prefix="collector", log_group=log_group),
            linux_parameters=ecs.LinuxParameters(self, "LinuxParameters", init_process_enabled=True),
            essential=True,
        )

    def _acknowledge(self, task_role: iam.Role) -> None:
        acknowledge(
            task_role,
            "AwsSolutions-IAM5[Resource::*]",
            "ECS Exec: the ssmmessages channel actions CDK adds support no resource-level permissions",
        )
        execution_role = self.task_definition.obtain_execution_role()
        acknowledge(
            execution_role,
            "AwsSolutions-IAM5[Resource::*]",
            "Image pull: ecr:GetAuthorizationToken supports no resource-level permissions",
        )
        acknowledge(
            self.task_definition,
            "AwsSolutions-ECS2",
            "The environment holds non-secret settings only: the CSM, OTLP and health ports, bucket name, S3 and SSM "
            "prefixes, the archive switch, region",
        )
        acknowledge(
            self.cluster,
            "AwsSolutions-ECS4",
            "One service with one task: ECS's free service CPU and memory metrics and the task's logs remain; "
            "Container Insights would add per-metric CloudWatch charges for task-level detail one task does not need",
        )
