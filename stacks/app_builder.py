"""Composes the four stacks from one config; the cross-stack values are typed constructor arguments."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from .collector_stack import CollectorStack
from .config import CollectorConfig
from .demo_stack import DemoStack
from .network_stack import NetworkStack
from .storage_stack import StorageStack

NETWORK_STACK = "CsmCollectorNetwork"
STORAGE_STACK = "CsmCollectorStorage"
COLLECTOR_STACK = "CsmCollector"
DEMO_STACK = "CsmCollectorDemo"


@dataclass(frozen=True)
class CsmStacks:
    network: NetworkStack
    storage: StorageStack
    collector: CollectorStack
    demo: DemoStack | None


def build_stacks(app: cdk.App, config: CollectorConfig) -> CsmStacks:
    network = NetworkStack(
        app,
        NETWORK_STACK,
        egress=config.egress,
        vpc_cidr=config.vpc_cidr,
        nat_instance_type=config.nat_instance_type,
        collector=config.collector,
    )
    storage = StorageStack(
        app,
        STORAGE_STACK,
        ssm_prefix=config.ssm_prefix,
        s3_prefix=config.s3_prefix,
        archive_prefix=config.archive_prefix,
        archive_retention_days=config.archive_retention_days,
        policies_parameter_path=config.policies_parameter_path,
    )
    collector = CollectorStack(
        app,
        COLLECTOR_STACK,
        config=config,
        vpc=network.vpc,
        workload_subnets=network.workload_subnets,
        workload_security_group=network.workload_security_group,
        bucket=storage.bucket,
        publishing_policy=storage.publishing_policy,
    )
    demo = None
    if config.demo:
        demo = DemoStack(
            app,
            DEMO_STACK,
            vpc=network.vpc,
            workload_subnets=network.workload_subnets,
            workload_security_group=network.workload_security_group,
            bucket=storage.bucket,
            collector_address=collector.address,
            collector_port=collector.port,
            collector_otlp_port=collector.otlp_port,
            address_parameter_name=config.address_parameter_name,
        )
        demo.add_stack_dependency(collector, "the demo reads the collector's address parameter")
    cdk.Tags.of(app).add("project", "csm-collector")
    return CsmStacks(network=network, storage=storage, collector=collector, demo=demo)
