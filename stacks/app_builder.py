"""Composes the four stacks from one config; the cross-stack values are typed constructor arguments. The stack
names come from the config's `name` (`csm-collector` -> `CsmCollectorNetwork`, ...), so copies coexist."""

from __future__ import annotations

from dataclasses import dataclass

import aws_cdk as cdk

from .collector_stack import CollectorStack
from .config import DEFAULT_NAME, CollectorConfig
from .demo_function import CollectorEndpoint
from .demo_stack import DemoStack
from .network_stack import NetworkStack
from .placement import Placement, Publishing
from .storage_stack import StorageStack


@dataclass(frozen=True)
class StackNames:
    network: str
    storage: str
    collector: str
    demo: str

    @classmethod
    def of(cls, config: CollectorConfig) -> StackNames:
        prefix = config.stack_prefix
        return cls(network=f"{prefix}Network", storage=f"{prefix}Storage", collector=prefix, demo=f"{prefix}Demo")


DEFAULT_STACKS = StackNames.of(CollectorConfig(name=DEFAULT_NAME))
NETWORK_STACK, STORAGE_STACK = DEFAULT_STACKS.network, DEFAULT_STACKS.storage
COLLECTOR_STACK, DEMO_STACK = DEFAULT_STACKS.collector, DEFAULT_STACKS.demo


@dataclass(frozen=True)
class CsmStacks:
    network: NetworkStack
    storage: StorageStack
    collector: CollectorStack
    demo: DemoStack | None


def build_stacks(app: cdk.App, config: CollectorConfig) -> CsmStacks:
    names = StackNames.of(config)
    network = NetworkStack(
        app,
        names.network,
        egress=config.egress,
        vpc_cidr=config.vpc_cidr,
        nat_instance_type=config.nat_instance_type,
        collector=config.collector,
        architecture=config.architecture,
    )
    storage = StorageStack(
        app,
        names.storage,
        ssm_prefix=config.ssm_prefix,
        s3_prefix=config.s3_prefix,
        archive_prefix=config.archive_prefix,
        archive_retention_days=config.archive_retention_days,
        policies_parameter_path=config.policies_parameter_path,
        athena_database=config.athena_database,
        athena_workgroup=config.athena_workgroup,
        architecture=config.architecture,
    )
    workloads = Placement(
        vpc=network.vpc,
        subnets=network.workload_subnets,
        security_group=network.workload_security_group,
        architecture=config.architecture,
    )
    collector = CollectorStack(
        app,
        names.collector,
        config=config,
        workloads=workloads,
        publishing=Publishing(
            bucket=storage.bucket,
            s3_prefix=config.s3_prefix,
            ssm_prefix=config.ssm_prefix,
            policy=storage.publishing_policy,
        ),
    )
    demo = None
    if config.demo:
        demo = DemoStack(
            app,
            names.demo,
            name=config.name,
            workloads=workloads,
            bucket=storage.bucket,
            collector=CollectorEndpoint(
                address=collector.address,
                ports=collector.ports,
                address_parameter_name=config.address_parameter_name,
            ),
        )
        demo.add_stack_dependency(collector, "the demo reads the collector's address parameter")
    cdk.Tags.of(app).add("project", "csm-collector")
    return CsmStacks(network=network, storage=storage, collector=collector, demo=demo)
