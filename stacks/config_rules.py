"""The rules of the CDK app's settings: the choices (collector, egress, architecture), the derived defaults, and
what makes a `CollectorConfig` valid. stacks/config.py reads the context and builds the config with them."""

from __future__ import annotations

import ipaddress
import re
from argparse import ArgumentTypeError
from enum import StrEnum
from typing import TYPE_CHECKING

from collector_runtime.contract import CONTAINER_METRICS_PORT, role_mappings

if TYPE_CHECKING:
    from .config import CollectorConfig


class CollectorKind(StrEnum):
    EC2 = "ec2"
    FARGATE = "fargate"


class Egress(StrEnum):
    NAT_INSTANCE = "nat-instance"
    NAT_GATEWAY = "nat-gateway"
    ENDPOINTS = "endpoints"


class Architecture(StrEnum):
    """The CPU every compute resource runs on: the EC2 instances, the Fargate task and its image, the Lambda
    functions. x86_64 lets a CI runner on x86 build the Fargate image without emulation."""

    ARM64 = "arm64"
    X86_64 = "x86_64"


DEFAULT_NAME = "csm-collector"
# architecture -> (collector instance type, NAT instance type): the smallest burstable type of each
DEFAULT_INSTANCE_TYPES = {Architecture.ARM64: ("t4g.micro", "t4g.nano"), Architecture.X86_64: ("t3.micro", "t3.nano")}
# Graviton (arm64) families: a generation digit followed by "g" (t4g, m7g, c7gn, r8gd, x2gd, im4gn), or a1.
GRAVITON_INSTANCE_TYPE = re.compile(r"^(?:a1|[a-z]+\d+g[a-z]*)\.[a-z0-9]+$")
_INSTANCE_TYPE = re.compile(r"^[a-z][a-z0-9-]*\.[a-z0-9]+$")
# Lower-case words joined by hyphens; short enough for `<name>-demo-node` (Lambda: 64) and the stack names.
_NAME = re.compile(r"^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$")
_MAX_NAME_LENGTH = 32
_SSM_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
_S3_PREFIX = re.compile(r"^([A-Za-z0-9_.-]+/)+$")
_RESERVED_SSM_ROOTS = ("/aws", "/ssm")
_MIN_UNPRIVILEGED_PORT = 1024
_MAX_PORT = 65535
_VPC_PREFIX_LENGTHS = range(16, 23)  # room for four /24 subnets


def problems(config: CollectorConfig) -> list[str]:
    checks: list[tuple[bool, str]] = [
        (
            bool(_NAME.match(config.name)) and len(config.name) <= _MAX_NAME_LENGTH,
            f"name={config.name!r}: must be lower-case letters, digits and single hyphens, starting with a letter, "
            f"at most {_MAX_NAME_LENGTH} characters (it names the stacks, the demo functions, the Athena workgroup "
            "and Glue database)",
        ),
        *_instance_type_checks(config),
        (
            _MIN_UNPRIVILEGED_PORT <= config.port <= _MAX_PORT,
            f"port={config.port}: must be between {_MIN_UNPRIVILEGED_PORT} and {_MAX_PORT} "
            "(the collector runs as an unprivileged user)",
        ),
        (
            _MIN_UNPRIVILEGED_PORT <= config.otlp_port <= _MAX_PORT and config.otlp_port != CONTAINER_METRICS_PORT,
            f"otlpPort={config.otlp_port}: must be between {_MIN_UNPRIVILEGED_PORT} and {_MAX_PORT}, "
            f"and not {CONTAINER_METRICS_PORT} (the Fargate task's health port)",
        ),
        (
            bool(_SSM_PATH.match(config.ssm_prefix)) and not config.ssm_prefix.lower().startswith(_RESERVED_SSM_ROOTS),
            f"ssmPrefix={config.ssm_prefix!r}: must look like /name or /team/name (letters, digits, _ . -; "
            "no trailing slash; not under /aws or /ssm)",
        ),
        (
            bool(_S3_PREFIX.match(config.s3_prefix)),
            f"s3Prefix={config.s3_prefix!r}: must look like name/ or team/name/ (letters, digits, _ . -; "
            "ending in a slash, no leading slash)",
        ),
        (
            config.archive_retention_days >= 1,
            f"archiveRetentionDays={config.archive_retention_days}: must be a whole number of days >= 1",
        ),
        (
            not config.proxy or config.collector is CollectorKind.FARGATE,
            "proxy=true: needs collector=fargate (the EC2 collector's package vendors wheels only, and one of "
            "mitmproxy's dependencies, pyperclip, ships none)",
        ),
        (
            config.alerts or not (config.alerts_email or config.alerts_role_map),
            "alertsEmail and alertsRoleMap need alerts=true",
        ),
        (
            config.alerts_email is None or bool(_EMAIL.match(config.alerts_email)),
            f"alertsEmail={config.alerts_email!r}: expected an e-mail address",
        ),
        (
            _is_role_map(config.alerts_role_map),
            f"alertsRoleMap={config.alerts_role_map!r}: expected WORKLOAD=ROLE_ARN (IAM role ARNs; for a Lambda "
            "function, its execution role's), "
            "several separated by spaces",
        ),
        (
            _is_vpc_cidr(config.vpc_cidr),
            f"vpcCidr={config.vpc_cidr!r}: must be an IPv4 network from /16 to /22 (it holds four /24 subnets)",
        ),
    ]
    return [message for ok, message in checks if not ok]


def _instance_type_checks(config: CollectorConfig) -> list[tuple[bool, str]]:
    """Both instance types must run the configured architecture (Graviton types are the arm64 ones)."""
    arm64 = config.architecture is Architecture.ARM64
    example, nat_example = DEFAULT_INSTANCE_TYPES[Architecture.ARM64 if arm64 else Architecture.X86_64]
    kind = "a Graviton (arm64) type" if arm64 else "an x86_64 type (not Graviton)"

    def fits(instance_type: str) -> bool:
        graviton = bool(GRAVITON_INSTANCE_TYPE.match(instance_type))
        return graviton if arm64 else bool(_INSTANCE_TYPE.match(instance_type)) and not graviton

    where = f" for architecture={config.architecture.value}"
    return [
        (
            fits(config.instance_type),
            f"instanceType={config.instance_type!r}: must be {kind} such as {example}{where}",
        ),
        (
            fits(config.nat_instance_type),
            f"natInstanceType={config.nat_instance_type!r}: must be {kind} such as {nat_example}{where}",
        ),
    ]


def _is_role_map(text: str) -> bool:
    if not text:
        return True
    try:
        found = role_mappings(text)
    except ArgumentTypeError:
        return False
    return all(":iam::" in arn for _, arn in found)  # a function's role: give the role's ARN


def _is_vpc_cidr(text: str) -> bool:
    try:
        network = ipaddress.ip_network(text, strict=True)
    except ValueError:
        return False
    return network.version == 4 and network.prefixlen in _VPC_PREFIX_LENGTHS
