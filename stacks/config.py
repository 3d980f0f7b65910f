"""The one place that reads the CDK app's settings: CDK context -> a frozen, validated `CollectorConfig`.

Every key can be set with `-c key=value` (`npx cdk deploy --all -c collector=fargate`) or in the
"context" of cdk.json. Values given on the command line arrive as strings and are converted here;
anything invalid raises `ConfigError` naming the key, the value and what is allowed.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

import constructs

from collector_runtime.contract import (
    ARCHIVE_DIR,
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
    role_mappings,
)

from .config_rules import DEFAULT_INSTANCE_TYPES, DEFAULT_NAME, Architecture, CollectorKind, Egress, problems

__all__ = [
    "CONTEXT_KEYS",
    "DEFAULT_NAME",
    "Architecture",
    "CollectorConfig",
    "CollectorKind",
    "ConfigError",
    "Egress",
    "config_from_context",
]


class ConfigError(ValueError):
    """A context value the app cannot use; the message says which key, what was given and what is allowed."""


@dataclass(frozen=True)
class CollectorConfig:
    """Everything the stacks may vary. Defaults are the cheap, secure choice. Empty instance types and SSM
    prefix mean "derived": the architecture's smallest types, `/<name>`."""

    name: str = DEFAULT_NAME  # the copy's name: its stack names and the physical names of its resources
    architecture: Architecture = Architecture.ARM64
    collector: CollectorKind = CollectorKind.EC2
    egress: Egress = Egress.NAT_INSTANCE
    instance_type: str = ""
    nat_instance_type: str = ""
    port: int = DEFAULT_PORT
    otlp_port: int = DEFAULT_OTLP_PORT
    ssm_prefix: str = ""
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
        instance_type, nat_instance_type = DEFAULT_INSTANCE_TYPES.get(self.architecture, ("", ""))
        # frozen: the derived defaults are filled in once, here
        object.__setattr__(self, "instance_type", self.instance_type or instance_type)
        object.__setattr__(self, "nat_instance_type", self.nat_instance_type or nat_instance_type)
        object.__setattr__(self, "ssm_prefix", self.ssm_prefix or f"/{self.name}")
        found = problems(self)
        if found:
            raise ConfigError("; ".join(found))

    @property
    def role_map(self) -> tuple[tuple[str, str], ...]:
        """alertsRoleMap as (workload, ARN) pairs."""
        return role_mappings(self.alerts_role_map) if self.alerts_role_map else ()

    @property
    def archive_prefix(self) -> str:
        """Where raw datagram archives go (expired after `archive_retention_days`)."""
        return f"{self.s3_prefix}{ARCHIVE_DIR}/"

    @property
    def stack_prefix(self) -> str:
        """`csm-collector` -> `CsmCollector`: the stacks are `<prefix>Network`, `<prefix>Storage`, `<prefix>`..."""
        return "".join(word.capitalize() for word in self.name.split("-"))

    @property
    def athena_workgroup(self) -> str:
        return self.name

    @property
    def athena_database(self) -> str:
        """Glue database names take no hyphens."""
        return self.name.replace("-", "_")

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


# context key -> (CollectorConfig field, converter). docs/reference.md's context table lists the same keys
# (tests/test_docs.py checks).
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
    "name": ("name", _as_str),
    "architecture": ("architecture", _as_choice(Architecture)),
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
