"""Deploying more than one copy (`-c name=...`), on either architecture (`-c architecture=x86_64|arm64`), from a
Dockerfile whose base is pinned and which exposes both collector ports."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.contract import (
    ATHENA_DATABASE,
    ATHENA_WORKGROUP,
    CONTAINER_METRICS_PORT,
    DEFAULT_OTLP_PORT,
    DEFAULT_PORT,
)
from stacks.collector_package import LocalCollectorBundler, pip_install_command
from stacks.config import Architecture, CollectorConfig
from tests.infra.synth import REPO_ROOT, SynthesizedApp, render_text, synthesize

pytestmark = pytest.mark.slow

# Resource type -> the property path of a name that must be unique in an account and region. Not listed, on
# purpose: Athena saved-query names (not unique), inline IAM policy names (scoped to their role), the SNS
# display name, the Glue table (scoped to its database, which is listed) and the Cloud Map namespace and
# service (a private namespace belongs to the copy's own VPC).
ACCOUNT_WIDE_NAMES = {
    "AWS::Lambda::Function": ("FunctionName",),
    "AWS::Athena::WorkGroup": ("Name",),
    "AWS::Glue::Database": ("DatabaseInput", "Name"),
    "AWS::SSM::Parameter": ("Name",),
    "AWS::EC2::LaunchTemplate": ("LaunchTemplateName",),
    "AWS::Events::EventBus": ("Name",),
}
NAMED_PROPERTY = re.compile(r"Name$")


def physical_names(app: SynthesizedApp) -> Iterator[tuple[str, str]]:
    """(resource type, name) of every resource whose name is account-wide; fails on any other literal `*Name`
    property of a type not reviewed above, so a new named resource cannot slip past this test."""
    reviewed_elsewhere = {
        "AWS::Athena::NamedQuery",
        "AWS::IAM::Policy",
        "AWS::SNS::Topic",
        "AWS::Glue::Table",
        "AWS::ServiceDiscovery::PrivateDnsNamespace",
        "AWS::ServiceDiscovery::Service",
        "AWS::EC2::Instance",  # refers to its launch template by name
    }
    for _, _, body in app.all_resources():
        kind, properties = body["Type"], body.get("Properties", {})
        if kind in ACCOUNT_WIDE_NAMES:
            value: Any = properties
            for key in ACCOUNT_WIDE_NAMES[kind]:
                value = value.get(key)
            if value is not None:  # else CloudFormation generates a unique name
                yield kind, render_text(value)
        else:
            named = [key for key, value in properties.items() if NAMED_PROPERTY.search(key) and isinstance(value, str)]
            assert kind in reviewed_elsewhere or not named, f"{kind} has a fixed name in {named}: review it here"


@pytest.fixture(scope="module")
def two_copies(tmp_path_factory: pytest.TempPathFactory) -> tuple[SynthesizedApp, SynthesizedApp]:
    root = tmp_path_factory.mktemp("copies")
    first = synthesize({"alerts": "true"}, root / "first")
    second = synthesize({"alerts": "true", "name": "team-b"}, root / "second")
    return first, second


def test_two_copies_share_no_stack_or_physical_name(two_copies: tuple[SynthesizedApp, SynthesizedApp]) -> None:
    first, second = two_copies
    assert not set(first.templates) & set(second.templates)
    first_names, second_names = set(physical_names(first)), set(physical_names(second))
    assert {kind for kind, _ in first_names} == set(ACCOUNT_WIDE_NAMES)  # every kind is there to collide
    assert first_names.isdisjoint(second_names), sorted(first_names & second_names)


def test_the_default_copy_keeps_its_names(two_copies: tuple[SynthesizedApp, SynthesizedApp]) -> None:
    first, _ = two_copies
    assert sorted(first.templates) == ["CsmCollector", "CsmCollectorDemo", "CsmCollectorNetwork", "CsmCollectorStorage"]
    names = set(physical_names(first))
    assert {
        ("AWS::Lambda::Function", "csm-collector-demo"),
        ("AWS::Lambda::Function", "csm-collector-demo-node"),
        ("AWS::Athena::WorkGroup", ATHENA_WORKGROUP),  # what `report --athena` reads by default
        ("AWS::Glue::Database", ATHENA_DATABASE),
        ("AWS::SSM::Parameter", "/csm-collector/collector/address"),
    } <= names


def test_a_named_copy_derives_its_stack_and_resource_names(two_copies: tuple[SynthesizedApp, SynthesizedApp]) -> None:
    _, second = two_copies
    assert sorted(second.templates) == ["TeamB", "TeamBDemo", "TeamBNetwork", "TeamBStorage"]
    names = set(physical_names(second))
    assert {
        ("AWS::Lambda::Function", "team-b-demo"),
        ("AWS::Lambda::Function", "team-b-demo-node"),
        ("AWS::Athena::WorkGroup", "team-b"),
        ("AWS::Glue::Database", "team_b"),
        ("AWS::SSM::Parameter", "/team-b/collector/address"),
    } <= names
    (table,) = [body for _, _, body in second.all_resources() if body["Type"] == "AWS::Glue::Table"]
    assert table["Properties"]["DatabaseName"] == "team_b"
    report = second.templates["TeamBStorage"]["Outputs"]["ReportCommand"]["Value"]
    assert report == "csm-collector report --athena --database team_b --workgroup team-b"
    demo = second.templates["TeamBDemo"]["Resources"]
    client_ids = {
        body["Properties"]["Environment"]["Variables"].get("AWS_CSM_CLIENT_ID")
        for body in demo.values()
        if body["Type"] == "AWS::Lambda::Function"
    }
    assert "team-b-demo" in client_ids


def test_an_explicit_ssm_prefix_wins_over_the_name() -> None:
    assert CollectorConfig(name="team-b").ssm_prefix == "/team-b"
    assert CollectorConfig(name="team-b", ssm_prefix="/shared/b").ssm_prefix == "/shared/b"


@pytest.fixture(scope="module")
def x86_fargate(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    return synthesize({"architecture": "x86_64", "collector": "fargate"}, tmp_path_factory.mktemp("x86-fargate"))


@pytest.fixture(scope="module")
def x86_ec2(tmp_path_factory: pytest.TempPathFactory) -> SynthesizedApp:
    return synthesize({"architecture": "x86_64", "demo": "false"}, tmp_path_factory.mktemp("x86-ec2"))


def properties_of(app: SynthesizedApp, kind: str) -> list[dict[str, Any]]:
    return [body["Properties"] for _, _, body in app.all_resources() if body["Type"] == kind]


def only(app: SynthesizedApp, kind: str) -> dict[str, Any]:
    (properties,) = properties_of(app, kind)
    return properties


def test_x86_64_builds_the_fargate_image_for_amd64_and_runs_the_task_there(x86_fargate: SynthesizedApp) -> None:
    platform = only(x86_fargate, "AWS::ECS::TaskDefinition")["RuntimePlatform"]
    assert platform == {"CpuArchitecture": "X86_64", "OperatingSystemFamily": "LINUX"}
    (image,) = x86_fargate.asset_manifest(x86_fargate.stacks.collector.stack_name)["dockerImages"].values()
    assert image["source"]["platform"] == "linux/amd64"  # no emulation on an x86 runner


def test_arm64_stays_the_default_platform(fargate: SynthesizedApp) -> None:
    assert only(fargate, "AWS::ECS::TaskDefinition")["RuntimePlatform"]["CpuArchitecture"] == "ARM64"
    (image,) = fargate.asset_manifest(fargate.stacks.collector.stack_name)["dockerImages"].values()
    assert image["source"]["platform"] == "linux/arm64"


def test_x86_64_lambda_functions_and_the_adot_layer_of_that_architecture(x86_fargate: SynthesizedApp) -> None:
    # both demos and the teardown's parameter cleanup (CDK's own provider, which sets no architecture, aside)
    functions = [
        function for function in properties_of(x86_fargate, "AWS::Lambda::Function") if "Architectures" in function
    ]
    assert len(functions) == 3
    assert all(function["Architectures"] == ["x86_64"] for function in functions)
    (node,) = [function for function in functions if function.get("FunctionName") == "csm-collector-demo-node"]
    (layer,) = node["Layers"]
    assert ":layer:aws-otel-nodejs-amd64-ver-" in render_text(layer)


def test_x86_64_ec2_collector_and_nat_instance_use_x86_types_and_images(x86_ec2: SynthesizedApp) -> None:
    instances = {
        stack: body["Properties"] for stack, _, body in x86_ec2.all_resources() if body["Type"] == "AWS::EC2::Instance"
    }
    assert instances["CsmCollector"]["InstanceType"] == "t3.micro"
    assert instances["CsmCollectorNetwork"]["InstanceType"] == "t3.nano"
    x86_image = "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"
    assert {properties["ImageId"] for properties in instances.values()} == {x86_image}
    assert x86_ec2.config.architecture is Architecture.X86_64


def test_the_ec2_package_vendors_wheels_of_the_architecture(tmp_path: Path) -> None:
    command = pip_install_command(
        REPO_ROOT / "collector-requirements.txt",
        tmp_path,
        pip=("pip",),
        pip_options=(),
        architecture=Architecture.X86_64,
    )
    assert "--platform=manylinux2014_x86_64" in command and "--platform=manylinux2014_aarch64" not in command


def test_the_x86_64_app_asks_its_bundler_for_x86_64_wheels(x86_ec2: SynthesizedApp) -> None:
    package = x86_ec2.stacks.collector.node.find_child("Ec2").node.find_child("Package")
    bundler = package.bundler
    assert isinstance(bundler, LocalCollectorBundler)
    assert bundler.architecture is Architecture.X86_64


DOCKERFILE = (REPO_ROOT / "Dockerfile").read_text()


def test_the_image_base_is_pinned_by_digest() -> None:
    (base,) = re.findall(r"^FROM (\S+)", DOCKERFILE, flags=re.MULTILINE)
    assert re.fullmatch(r"python:3\.11\.\d+-slim@sha256:[0-9a-f]{64}", base), base


def test_the_image_exposes_the_csm_and_otlp_ports_and_the_health_port_is_the_contracts() -> None:
    exposed = {port for line in re.findall(r"^EXPOSE (.+)$", DOCKERFILE, flags=re.MULTILINE) for port in line.split()}
    assert exposed == {f"{DEFAULT_PORT}/udp", f"{DEFAULT_OTLP_PORT}/tcp"}
    assert f"ENV CSM_COLLECTOR_METRICS_PORT={CONTAINER_METRICS_PORT}\n" in DOCKERFILE
