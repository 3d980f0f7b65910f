"""CDK context -> CollectorConfig: defaults, conversions of command-line strings, and clear errors."""

from __future__ import annotations

import aws_cdk as cdk
import pytest

from collector_runtime.contract import ARCHIVE_DIR, ATHENA_DATABASE, ATHENA_WORKGROUP, CONTAINER_METRICS_PORT
from stacks.config import (
    CONTEXT_KEYS,
    Architecture,
    CollectorConfig,
    CollectorKind,
    ConfigError,
    Egress,
    config_from_context,
)


def new_app(context: dict[str, object]) -> cdk.App:
    return cdk.App(context=context)


def config_for(**context: object) -> CollectorConfig:
    return config_from_context(new_app(context).node)


def test_defaults_are_the_cheap_ec2_collector() -> None:
    config = config_for()
    assert config == CollectorConfig()
    assert config.collector is CollectorKind.EC2
    assert config.egress is Egress.NAT_INSTANCE
    assert (config.instance_type, config.nat_instance_type) == ("t4g.micro", "t4g.nano")
    assert (config.port, config.ssm_prefix, config.s3_prefix) == (31000, "/csm-collector", "collector/")
    assert (config.archive_retention_days, config.allow_vpc_cidr, config.demo) == (90, False, True)


def test_command_line_strings_are_converted() -> None:
    config = config_for(
        collector="Fargate",
        egress="endpoints",
        port="31001",
        allowVpcCidr="TRUE",
        demo="false",
        archiveRetentionDays="7",
        ssmPrefix="/team/csm",
        s3Prefix="team/csm/",
    )
    assert config.collector is CollectorKind.FARGATE
    assert config.egress is Egress.ENDPOINTS
    assert (config.port, config.allow_vpc_cidr, config.demo, config.archive_retention_days) == (31001, True, False, 7)
    assert config.address_parameter_name == "/team/csm/collector/address"
    assert config.port_parameter_name == "/team/csm/collector/port"
    assert config.policies_parameter_path == "/team/csm/policies"
    assert config.archive_prefix == "team/csm/archive/"


def test_cdk_json_values_keep_their_json_types() -> None:
    config = config_for(port=31002, allowVpcCidr=True, archiveRetentionDays=1)
    assert (config.port, config.allow_vpc_cidr, config.archive_retention_days) == (31002, True, 1)


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("collector", "lambda", "collector='lambda': expected one of ec2, fargate"),
        ("egress", "vpn", "egress='vpn': expected one of nat-instance, nat-gateway, endpoints"),
        ("instanceType", "t3.micro", "instanceType='t3.micro': must be a Graviton (arm64) type"),
        ("natInstanceType", "c5.large", "natInstanceType='c5.large': must be a Graviton"),
        ("port", "80", "port=80: must be between 1024 and 65535"),
        ("port", "70000", "port=70000: must be between 1024 and 65535"),
        ("port", "udp", "port='udp': expected a whole number"),
        ("port", True, "port=True: expected a whole number"),
        ("ssmPrefix", "csm", "ssmPrefix='csm': must look like /name"),
        ("ssmPrefix", "/csm/", "ssmPrefix='/csm/': must look like /name"),
        ("ssmPrefix", "/aws/csm", "not under /aws or /ssm"),
        ("s3Prefix", "/collector/", "s3Prefix='/collector/': must look like name/"),
        ("s3Prefix", "collector", "s3Prefix='collector': must look like name/"),
        ("archiveRetentionDays", "0", "archiveRetentionDays=0: must be a whole number of days >= 1"),
        ("allowVpcCidr", "yes please", "allowVpcCidr='yes please': expected true or false"),
        ("demo", "1", "demo='1': expected true or false"),
        ("vpcCidr", "10.0.0.0/24", "vpcCidr='10.0.0.0/24': must be an IPv4 network from /16 to /22"),
        ("vpcCidr", "10.0.0.1/16", "vpcCidr='10.0.0.1/16'"),
        ("vpcCidr", "", "vpcCidr='': expected a non-empty string"),
        ("architecture", "riscv64", "architecture='riscv64': expected one of arm64, x86_64"),
        ("name", "Team_B", "name='Team_B': must be lower-case letters, digits and single hyphens"),
        ("name", "team--b", "name='team--b': must be lower-case"),
        ("name", "-team", "name='-team': must be lower-case"),
        ("name", "a" * 33, "at most 32 characters"),
    ],
)
def test_bad_values_say_which_key_what_was_given_and_what_is_allowed(key: str, value: object, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace("(", r"\(").replace(")", r"\)")):
        config_for(**{key: value})


def test_a_misspelt_key_is_an_error_not_silently_ignored() -> None:
    with pytest.raises(ConfigError, match=r"unknown context key\(s\) colector; known keys: collector, egress"):
        config_for(colector="fargate")


def test_framework_context_keys_are_left_alone() -> None:
    assert config_for(**{"cli-telemetry": False, "aws:cdk:enable-path-metadata": True}) == CollectorConfig()


def test_every_context_key_maps_to_a_config_field() -> None:
    fields = set(CollectorConfig.__dataclass_fields__)
    assert {field for field, _ in CONTEXT_KEYS.values()} == fields


def test_the_config_is_frozen() -> None:
    config = CollectorConfig()
    with pytest.raises(AttributeError):
        config.port = 1  # type: ignore[misc]


def test_app_py_reports_a_bad_setting_without_a_traceback(monkeypatch: pytest.MonkeyPatch) -> None:
    import app

    # The CDK CLI passes -c values through the environment of a fresh process; here, through the App itself.
    bad_app = new_app({"collector": "lambda"})
    monkeypatch.setattr(app.cdk, "App", lambda: bad_app)
    with pytest.raises(SystemExit) as exit_info:
        app.main()
    assert str(exit_info.value) == (
        "csm-collector CDK app: bad context setting: collector='lambda': expected one of ec2, fargate"
    )


def test_the_architecture_picks_the_default_instance_types() -> None:
    assert (config_for().instance_type, config_for().nat_instance_type) == ("t4g.micro", "t4g.nano")
    x86 = config_for(architecture="x86_64")
    assert x86.architecture is Architecture.X86_64
    assert (x86.instance_type, x86.nat_instance_type) == ("t3.micro", "t3.nano")
    assert config_for(architecture="ARM64").architecture is Architecture.ARM64


@pytest.mark.parametrize(
    ("context", "message"),
    [
        ({"architecture": "x86_64", "instanceType": "t4g.micro"}, "instanceType='t4g.micro': must be an x86_64 type"),
        ({"architecture": "x86_64", "natInstanceType": "m7g.large"}, "natInstanceType='m7g.large': must be an x86_64"),
        ({"architecture": "arm64", "instanceType": "m7i.large"}, "instanceType='m7i.large': must be a Graviton"),
    ],
)
def test_instance_types_must_match_the_architecture(context: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        config_for(**context)


def test_the_name_derives_the_ssm_prefix_stacks_and_athena_names() -> None:
    config = config_for(name="team-b")
    assert (config.ssm_prefix, config.stack_prefix) == ("/team-b", "TeamB")
    assert (config.athena_workgroup, config.athena_database) == ("team-b", "team_b")
    default = config_for()
    assert (default.stack_prefix, default.athena_workgroup, default.athena_database) == (
        "CsmCollector",
        ATHENA_WORKGROUP,
        ATHENA_DATABASE,
    )


def test_the_archive_prefix_and_health_port_come_from_the_contract() -> None:
    assert config_for(s3Prefix="x/").archive_prefix == f"x/{ARCHIVE_DIR}/"
    with pytest.raises(ConfigError, match=f"not {CONTAINER_METRICS_PORT}"):
        config_for(otlpPort=CONTAINER_METRICS_PORT)
