"""The one place that reads the CDK app's settings: CDK context -> a frozen, validated `CollectorConfig`.

Every key can be set with `-c key=value` (`npx cdk deploy --all -c collector=fargate`) or in the
"context" of cdk.json. Values given on the command line arrive as strings and are converted here;
anything invalid raises `ConfigError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import ipaddress
import re
from argparse import ArgumentTypeError
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import constructs

from collector_runtime.contract import (
    COLLECTOR_ADDRESS,
    COLLECTOR_OTLP_PORT,
    COLLECTOR_PORT,
    COLLECTOR_PROXY_PORT,
    COLLECTOR_WORKLOAD_SECURITY_GROUP,
    DEFAULT_OTLP_PORT,
    DEFAULT_PORT,
    DEFAULT_PROXY_PORT,
    collector_parameter,
    policies_parameter_path,
)
from collector_runtime.settings.values import role_mappings


class ConfigError(ValueError):
    """A context value the app cannot use; the message says which key, what was given and what is allowed."""


class CollectorKind(StrEnum):
    EC2 = "ec2"
    FARGATE = "fargate"


class Egress(StrEnum):
    NAT_INSTANCE = "nat-instance"
    NAT_GATEWAY = "nat-gateway"
    ENDPOINTS = "endpoints"


# Graviton (arm64) families: a generation digit followed by "g" (t4g, m7g, c7gn, r8gd, x2gd, im4gn), or a1.
_GRAVITON_INSTANCE_TYPE = re.compile(r"^(?:a1|[a-z]+\d+g[a-z]*)\.[a-z0-9]+$")
_SSM_PATH = re.compile(r"^(/[A-Za-z0-9_.-]+)+$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[A-Za-z0-9.-]{1,253}\.[A-Za-z]{2,}$")
_S3_PREFIX = re.compile(r"^([A-Za-z0-9_.-]+/)+$")
_RESERVED_SSM_ROOTS = ("/aws", "/ssm")
_MIN_UNPRIVILEGED_PORT = 1024
_MAX_PORT = 65535
_HEALTH_PORT = 9100  # fargate_collector.HEALTH_PORT: the collector's own /health inside the task
_VPC_PREFIX_LENGTHS = range(16, 23)  # room for four /24 subnets


@dataclass(frozen=True)
class CollectorConfig:
    """Everything the stacks may vary. Defaults are the cheap, secure choice."""

    collector: CollectorKind = CollectorKind.EC2
    egress: Egress = Egress.NAT_INSTANCE
    instance_type: str = "t4g.micro"
    nat_instance_type: str = "t4g.nano"
    port: int = DEFAULT_PORT
    otlp_port: int = DEFAULT_OTLP_PORT
    ssm_prefix: str = "/csm-collector"
    s3_prefix: str = "collector/"
    archive_retention_days: int = 90
    allow_vpc_cidr: bool = False
    vpc_cidr: str = "10.42.0.0/16"
    demo: bool = True
    proxy: bool = False  # also run `csm-collector proxy` (Fargate: a second container in the collector's task)
    alerts: bool = False  # an EventBridge bus for the collector's alerts, a rule to an SNS topic (stacks/alerting.py)
    alerts_email: str | None = None  # subscribed to the topic (AWS sends a confirmation first)
    alerts_role_map: str = ""  # "WORKLOAD=ARN ...": roles (or Lambda functions) drift compares workloads with

    def __post_init__(self) -> None:
        problems = _problems(self)
        if problems:
            raise ConfigError("; ".join(problems))

    @property
    def role_map(self) -> tuple[tuple[str, str], ...]:
        """alertsRoleMap as (workload, ARN) pairs."""
        return role_mappings(self.alerts_role_map) if self.alerts_role_map else ()

    @property
    def archive_prefix(self) -> str:
        """Where raw datagram archives go (expired after `archive_retention_days`)."""
        return f"{self.s3_prefix}archive/"

    @property
    def policies_parameter_path(self) -> str:
        """The SSM path under which the collector publishes one parameter per workload policy."""
        return policies_parameter_path(self.ssm_prefix)

    @property
    def address_parameter_name(self) -> str:
        return collector_parameter(self.ssm_prefix, COLLECTOR_ADDRESS)

    @property
    def port_parameter_name(self) -> str:
        return collector_parameter(self.ssm_prefix, COLLECTOR_PORT)

    @property
    def otlp_port_parameter_name(self) -> str:
        return collector_parameter(self.ssm_prefix, COLLECTOR_OTLP_PORT)

    @property
    def proxy_port(self) -> int | None:
        """The proxy's TCP port, when the proxy runs."""
        return DEFAULT_PROXY_PORT if self.proxy else None

    @property
    def proxy_s3_prefix(self) -> str:
        """Where the proxy publishes (its own writer: never the CSM collector's files)."""
        return f"{self.s3_prefix}proxy/"

    @property
    def proxy_port_parameter_name(self) -> str:
        return collector_parameter(self.ssm_prefix, COLLECTOR_PROXY_PORT)

    @property
    def workload_security_group_parameter_name(self) -> str:
        """The group a workload needs to reach the collector (`csm-collector attach` checks for it)."""
        return collector_parameter(self.ssm_prefix, COLLECTOR_WORKLOAD_SECURITY_GROUP)


def _problems(config: CollectorConfig) -> list[str]:
    checks: list[tuple[bool, str]] = [
        (
            bool(_GRAVITON_INSTANCE_TYPE.match(config.instance_type)),
            f"instanceType={config.instance_type!r}: must be a Graviton (arm64) type such as t4g.micro or m7g.large",
        ),
        (
            bool(_GRAVITON_INSTANCE_TYPE.match(config.nat_instance_type)),
            f"natInstanceType={config.nat_instance_type!r}: must be a Graviton (arm64) type such as t4g.nano",
        ),
        (
            _MIN_UNPRIVILEGED_PORT <= config.port <= _MAX_PORT,
            f"port={config.port}: must be between {_MIN_UNPRIVILEGED_PORT} and {_MAX_PORT} "
            "(the collector runs as an unprivileged user)",
        ),
        (
            _MIN_UNPRIVILEGED_PORT <= config.otlp_port <= _MAX_PORT and config.otlp_port != _HEALTH_PORT,
            f"otlpPort={config.otlp_port}: must be between {_MIN_UNPRIVILEGED_PORT} and {_MAX_PORT}, "
            f"and not {_HEALTH_PORT} (the Fargate task's health port)",
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


def _as_bool(key: str, raw: object) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lower() in ("true", "false"):
        return raw.strip().lower() == "true"
    raise ConfigError(f"{key}={raw!r}: expected true or false")


def _as_int(key: str, raw: object) -> int:
    if isinstance(raw, int) and not isinstance(raw, bool):
        return raw
    if isinstance(raw, str) and raw.strip().lstrip("-").isdigit():
        return int(raw.strip())
    raise ConfigError(f"{key}={raw!r}: expected a whole number")


def _as_str(key: str, raw: object) -> str:
    if isinstance(raw, str) and raw.strip():
        return raw.strip()
    raise ConfigError(f"{key}={raw!r}: expected a non-empty string")


def _as_choice(enum_type: type[StrEnum]) -> Callable[[str, object], Any]:
    def convert(key: str, raw: object) -> StrEnum:
        allowed = ", ".join(member.value for member in enum_type)
        try:
            return enum_type(_as_str(key, raw).lower())
        except ValueError:
            raise ConfigError(f"{key}={raw!r}: expected one of {allowed}") from None

    return convert


# context key -> (CollectorConfig field, converter). The README's context table lists the same keys.
CONTEXT_KEYS: Mapping[str, tuple[str, Callable[[str, object], Any]]] = {
    "collector": ("collector", _as_choice(CollectorKind)),
    "egress": ("egress", _as_choice(Egress)),
    "instanceType": ("instance_type", _as_str),
    "natInstanceType": ("nat_instance_type", _as_str),
    "port": ("port", _as_int),
    "otlpPort": ("otlp_port", _as_int),
    "ssmPrefix": ("ssm_prefix", _as_str),
    "s3Prefix": ("s3_prefix", _as_str),
    "archiveRetentionDays": ("archive_retention_days", _as_int),
    "allowVpcCidr": ("allow_vpc_cidr", _as_bool),
    "vpcCidr": ("vpc_cidr", _as_str),
    "demo": ("demo", _as_bool),
    "proxy": ("proxy", _as_bool),
    "alerts": ("alerts", _as_bool),
    "alertsEmail": ("alerts_email", _as_str),
    "alertsRoleMap": ("alerts_role_map", _as_str),
}
# Our keys are plain camelCase words; framework keys ("@aws-cdk/...", "aws:cdk:...", "cli-telemetry") are not.
_OWN_KEY_SHAPE = re.compile(r"^[a-z][A-Za-z0-9]*$")


def config_from_context(node: constructs.Node) -> CollectorConfig:
    """Read every known key from the CDK context (defaults for the rest); reject unknown keys of our shape."""
    context = node.get_all_context()
    _reject_unknown_keys(context)
    values = {
        field_name: convert(key, context[key])
        for key, (field_name, convert) in CONTEXT_KEYS.items()
        if context.get(key) is not None
    }
    return CollectorConfig(**values)


def _reject_unknown_keys(context: Mapping[str, object]) -> None:
    unknown = sorted(key for key in context if _OWN_KEY_SHAPE.match(key) and key not in CONTEXT_KEYS)
    if unknown:
        known = ", ".join(CONTEXT_KEYS)
        raise ConfigError(f"unknown context key(s) {', '.join(unknown)}; known keys: {known}")
