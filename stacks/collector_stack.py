"""Collector: the EC2 or Fargate collector, its security group, and the SSM parameters with its address."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from constructs import Construct

from collector_runtime.contract import CA_CERTIFICATE_OBJECT, otlp_endpoint, setting_variable
from collector_runtime.contract import MERGED_POLICY as MERGED_POLICY_FILE

from .alerting import Alerting
from .collector_boot import STATE_DIR
from .collector_security_group import CollectorSecurityGroup
from .config import CollectorConfig, CollectorKind
from .ec2_collector import Ec2Collector
from .fargate_collector import CONTAINER_NAME, FargateCollector, ProxySettings
from .parameters import ParameterDirectory
from .placement import CollectorPorts, Placement, Publishing

MERGED_POLICY = f"{STATE_DIR}/{MERGED_POLICY_FILE}"
PROXY_COLLECTOR_ID = "proxy"  # names the proxy's archive files (the CSM collector's are named by its host)


class CollectorStack(cdk.Stack):
    """`address` (private IP or DNS name) and `ports` are where workloads send CSM datagrams and OTLP traces.
    The collector runs where the workloads do (`workloads`), with its own security group."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        config: CollectorConfig,
        workloads: Placement,
        publishing: Publishing,
        **kwargs: Any,
    ) -> None:
        super().__init__(
            scope, construct_id, description=f"csm-collector: the {config.collector.value} collector", **kwargs
        )
        self.ports = CollectorPorts(csm=config.port, otlp=config.otlp_port)
        workload_security_group = workloads.security_group
        bucket = publishing.bucket
        security_group = CollectorSecurityGroup(
            self,
            "Access",
            vpc=workloads.vpc,
            port=config.port,
            otlp_port=config.otlp_port,
            workload_security_group=workload_security_group,
            allowed_vpc_cidr=config.vpc_cidr if config.allow_vpc_cidr else None,
            proxy_port=config.proxy_port,
        ).security_group
        alerting = (
            Alerting(self, "Alerting", email=config.alerts_email, role_map=config.role_map) if config.alerts else None
        )
        placement = workloads.with_security_group(security_group)
        if config.collector is CollectorKind.EC2:
            instance = Ec2Collector(
                self,
                "Ec2",
                placement=placement,
                ports=self.ports,
                publishing=publishing,
                instance_type=config.instance_type,
                extra_environment=alerting.environment if alerting else None,
            )
            if alerting:
                alerting.grant(instance.instance.role)
            self.address: str = instance.address
            self._ec2_outputs(instance)
        else:
            service = FargateCollector(
                self,
                "Fargate",
                placement=placement,
                ports=self.ports,
                publishing=publishing,
                proxy=ProxySettings(config.proxy_port, config.proxy_s3_prefix) if config.proxy_port else None,
            )
            if alerting:
                alerting.grant(service.task_definition.task_role)
                containers = [service.container] + ([service.proxy.container] if service.proxy else [])
                for container in containers:
                    for name, value in alerting.environment.items():
                        container.add_environment(name, value)
            if service.proxy:  # its archive beside the collector's: one Athena table holds every source
                service.proxy.container.add_environment(setting_variable("--archive-s3-prefix"), config.archive_prefix)
                service.proxy.container.add_environment(setting_variable("--collector-id"), PROXY_COLLECTOR_ID)
            self.address = service.address
            self._fargate_outputs(service)
        proxy_parameters = {config.proxy_port_parameter_name: str(config.proxy_port)} if config.proxy_port else {}
        ParameterDirectory(
            self,
            "Parameters",
            values={
                config.address_parameter_name: self.address,
                config.port_parameter_name: str(config.port),
                config.otlp_port_parameter_name: str(config.otlp_port),
                config.workload_security_group_parameter_name: workload_security_group.security_group_id,
                **proxy_parameters,
            },
            description="csm-collector: where workloads send CSM datagrams and OTLP/HTTP traces",
        )
        if alerting:
            cdk.CfnOutput(self, "AlertsEventBus", value=alerting.bus.event_bus_name)
            cdk.CfnOutput(self, "AlertsTopic", value=alerting.topic.topic_arn)
        cdk.CfnOutput(self, "CollectorAddress", value=self.address)
        cdk.CfnOutput(self, "CollectorPort", value=str(config.port))
        cdk.CfnOutput(self, "CollectorOtlpEndpoint", value=otlp_endpoint(self.address, config.otlp_port))
        if config.proxy_port:
            cdk.CfnOutput(self, "ProxyPort", value=str(config.proxy_port))
            cdk.CfnOutput(
                self,
                "ProxyCaCertificate",
                value=f"s3://{bucket.bucket_name}/{config.proxy_s3_prefix}{CA_CERTIFICATE_OBJECT}",
            )

    def _ec2_outputs(self, collector: Ec2Collector) -> None:
        instance_id = collector.instance.instance_id
        cdk.CfnOutput(self, "InstanceId", value=instance_id)
        cdk.CfnOutput(self, "ConnectCommand", value=f"aws ssm start-session --target {instance_id}")
        cdk.CfnOutput(
            self,
            "ShowPolicyCommand",
            value=f"aws ssm start-session --target {instance_id} --document-name AWS-StartInteractiveCommand "
            f'--parameters command="sudo cat {MERGED_POLICY}"',
        )
        cdk.CfnOutput(self, "LogGroupName", value=collector.log_group.log_group_name)

    def _fargate_outputs(self, collector: FargateCollector) -> None:
        cluster = collector.cluster.cluster_name
        service = collector.service.service_name
        exec_prefix = (
            f"aws ecs execute-command --cluster {cluster} --task "
            f"$(aws ecs list-tasks --cluster {cluster} --service-name {service} --query 'taskArns[0]' --output text) "
            f"--container {CONTAINER_NAME} --interactive"
        )
        cdk.CfnOutput(self, "ClusterName", value=cluster)
        cdk.CfnOutput(self, "ServiceName", value=service)
        cdk.CfnOutput(self, "ConnectCommand", value=f"{exec_prefix} --command /bin/sh")
        cdk.CfnOutput(self, "ShowPolicyCommand", value=f'{exec_prefix} --command "cat {MERGED_POLICY}"')
