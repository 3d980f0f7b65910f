"""Where a collector or a demo function runs (one props object instead of the same arguments in every
constructor), where a collector publishes, and what the configured architecture means for Lambda, the Fargate
task and its image (the EC2 image: instances.py; the vendored wheels: collector_package.py)."""

from __future__ import annotations

from dataclasses import dataclass, replace

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_s3 as s3

from .config import Architecture


@dataclass(frozen=True)
class Placement:
    """The VPC, the subnets and the security group a resource runs in, and its CPU architecture."""

    vpc: ec2.IVpc
    subnets: ec2.SubnetSelection
    security_group: ec2.ISecurityGroup
    architecture: Architecture = Architecture.ARM64

    def with_security_group(self, security_group: ec2.ISecurityGroup) -> Placement:
        return replace(self, security_group=security_group)


@dataclass(frozen=True)
class Publishing:
    """Where a collector publishes its results, and the managed policy that allows exactly that."""

    bucket: s3.IBucket
    s3_prefix: str
    ssm_prefix: str
    policy: iam.IManagedPolicy


@dataclass(frozen=True)
class CollectorPorts:
    """The collector's CSM (UDP) and OTLP/HTTP (TCP) ports."""

    csm: int
    otlp: int


def lambda_architecture(architecture: Architecture) -> lambda_.Architecture:
    return lambda_.Architecture.ARM_64 if architecture is Architecture.ARM64 else lambda_.Architecture.X86_64


def ecs_cpu_architecture(architecture: Architecture) -> ecs.CpuArchitecture:
    return ecs.CpuArchitecture.ARM64 if architecture is Architecture.ARM64 else ecs.CpuArchitecture.X86_64


def image_platform(architecture: Architecture) -> ecr_assets.Platform:
    """The platform the Fargate image is built for (`docker build --platform`)."""
    return ecr_assets.Platform.LINUX_ARM64 if architecture is Architecture.ARM64 else ecr_assets.Platform.LINUX_AMD64
