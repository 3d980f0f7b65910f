"""The Fargate collector: one ARM64 task from the repo's Dockerfile, ECS Exec, CloudWatch logs, a stable
Cloud Map DNS name, a task role scoped to exactly what the collector does, a health check the deployment
circuit breaker acts on, and one task (one writer) at a time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from aws_cdk.assertions import Match

from stacks.app_builder import COLLECTOR_STACK, STORAGE_STACK
from stacks.fargate_collector import HEALTH_COMMAND, HEALTH_PORT
from tests.helpers import start_listen
from tests.infra.synth import REPO_ROOT, SynthesizedApp, render_text

pytestmark = pytest.mark.slow


def container(app: SynthesizedApp) -> dict[str, Any]:
    _, task = app.only_resource(COLLECTOR_STACK, "AWS::ECS::TaskDefinition")
    (definition,) = task["Properties"]["ContainerDefinitions"]
    return dict(definition)


def environment(app: SynthesizedApp) -> dict[str, Any]:
    return {item["Name"]: item["Value"] for item in container(app)["Environment"]}


def test_one_arm64_task_with_the_smallest_fargate_size(fargate: SynthesizedApp) -> None:
    fargate.template(COLLECTOR_STACK).has_resource_properties(
        "AWS::ECS::TaskDefinition",
        {
            "Cpu": "256",
            "Memory": "512",
            "NetworkMode": "awsvpc",
            "RequiresCompatibilities": ["FARGATE"],
            "RuntimePlatform": {"CpuArchitecture": "ARM64", "OperatingSystemFamily": "LINUX"},
        },
    )
    fargate.template(COLLECTOR_STACK).has_resource_properties(
        "AWS::ECS::Service",
        {
            "DesiredCount": 1,
            "LaunchType": "FARGATE",
            "EnableExecuteCommand": True,
            "NetworkConfiguration": {"AwsvpcConfiguration": Match.object_like({"AssignPublicIp": "DISABLED"})},
        },
    )


def test_the_image_is_built_from_the_repo_dockerfile_for_arm64(fargate: SynthesizedApp) -> None:
    (image,) = fargate.asset_manifest(COLLECTOR_STACK)["dockerImages"].values()
    assert image["source"]["platform"] == "linux/arm64"
    staged = fargate.outdir / image["source"]["directory"]
    assert sorted(path.name for path in staged.iterdir()) == [
        ".dockerignore",
        "Dockerfile",
        "collector-requirements.txt",
        "collector_runtime",
        "proxy-requirements.txt",
        "pyproject.toml",
    ]
    assert not list(staged.rglob("__pycache__"))
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "FROM python:3.11." in dockerfile  # a 3.11 patch release, pinned by digest (test_deploy_options.py)
    assert "pip install --no-deps --requirement /tmp/csm-collector/collector-requirements.txt" in dockerfile
    assert "USER 10001" in dockerfile
    assert '"--host", "0.0.0.0"' in dockerfile and '"--quiet"' in dockerfile


def test_the_container_listens_on_the_csm_port_and_logs_to_cloudwatch(fargate: SynthesizedApp) -> None:
    definition = container(fargate)
    assert definition["PortMappings"] == [
        {"ContainerPort": 31000, "Protocol": "udp"},
        {"ContainerPort": 4318, "Protocol": "tcp"},
    ]
    assert definition["LogConfiguration"]["LogDriver"] == "awslogs"
    assert definition["LinuxParameters"]["InitProcessEnabled"] is True
    assert environment(fargate)["CSM_COLLECTOR_PORT"] == "31000"


def test_the_container_gets_its_publishing_settings(fargate: SynthesizedApp) -> None:
    env = environment(fargate)
    assert fargate.resolve(env["CSM_COLLECTOR_S3_BUCKET"]) == {"Ref": fargate.results_bucket_id()}
    assert (env["CSM_COLLECTOR_S3_PREFIX"], env["CSM_COLLECTOR_SSM_PREFIX"], env["CSM_COLLECTOR_ARCHIVE"]) == (
        "collector/",
        "/csm-collector",
        "true",
    )


def test_a_stable_dns_name_from_a_private_cloud_map_namespace(fargate: SynthesizedApp) -> None:
    template = fargate.template(COLLECTOR_STACK)
    template.has_resource_properties("AWS::ServiceDiscovery::PrivateDnsNamespace", {"Name": "csm.internal"})
    template.has_resource_properties(
        "AWS::ServiceDiscovery::Service",
        {"Name": "collector", "DnsConfig": Match.object_like({"DnsRecords": [{"Type": "A", "TTL": 10}]})},
    )
    template.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": "/csm-collector/collector/address", "Value": "collector.csm.internal"}
    )
    assert fargate.templates[COLLECTOR_STACK]["Outputs"]["CollectorAddress"]["Value"] == "collector.csm.internal"


def test_the_task_role_publishes_through_the_storage_stacks_policy(fargate: SynthesizedApp) -> None:
    policy_id, _ = fargate.only_resource(STORAGE_STACK, "AWS::IAM::ManagedPolicy")
    roles_with_policies = [
        role["Properties"]["ManagedPolicyArns"]
        for role in fargate.resources(COLLECTOR_STACK, "AWS::IAM::Role").values()
        if "ManagedPolicyArns" in role["Properties"]
    ]
    assert len(roles_with_policies) == 1
    assert [fargate.resolve(arn) for arn in roles_with_policies[0]] == [{"Ref": policy_id}]


def test_ecs_exec_adds_only_the_channel_actions(fargate: SynthesizedApp) -> None:
    fargate.template(COLLECTOR_STACK).has_resource_properties(
        "AWS::IAM::Policy",
        {
            "PolicyDocument": {
                "Statement": [
                    {
                        "Action": [
                            "ssmmessages:CreateControlChannel",
                            "ssmmessages:CreateDataChannel",
                            "ssmmessages:OpenControlChannel",
                            "ssmmessages:OpenDataChannel",
                        ],
                        "Effect": "Allow",
                        "Resource": "*",
                    }
                ],
                "Version": "2012-10-17",
            }
        },
    )


def test_outputs_say_how_to_open_a_shell_in_the_task(fargate: SynthesizedApp) -> None:
    outputs = fargate.templates[COLLECTOR_STACK]["Outputs"]
    command = render_text(outputs["ConnectCommand"]["Value"])
    assert command.startswith("aws ecs execute-command --cluster ")
    assert "--task $(aws ecs list-tasks --cluster " in command
    assert command.endswith("--container collector --interactive --command /bin/sh")
    show = render_text(outputs["ShowPolicyCommand"]["Value"])
    assert show.endswith('--container collector --interactive --command "cat /var/lib/csm-collector/policy.json"')
    assert {"ClusterName", "ServiceName", "CollectorPort"} <= set(outputs)


def test_dockerignore_sends_only_what_the_image_installs() -> None:
    lines = (REPO_ROOT / ".dockerignore").read_text().splitlines()
    patterns = [line for line in lines if line and not line.startswith("#")]
    assert patterns[0] == "*"
    assert {"!pyproject.toml", "!collector-requirements.txt", "!collector_runtime/"} <= set(patterns)


def probe(metrics_port: int) -> int:
    """The container's health check command, run here (`python` is this interpreter)."""
    command = [sys.executable, *HEALTH_COMMAND[1:]]
    environment = {**os.environ, "CSM_COLLECTOR_METRICS_PORT": str(metrics_port)}
    return subprocess.run(command, env=environment, capture_output=True, timeout=30, check=False).returncode


def free_tcp_port() -> int:
    with socket.socket() as probe_socket:
        probe_socket.bind(("127.0.0.1", 0))
        return int(probe_socket.getsockname()[1])


def test_the_container_is_healthy_only_while_the_collector_answers_on_loopback(fargate: SynthesizedApp) -> None:
    assert container(fargate)["HealthCheck"] == {
        "Command": ["CMD", *HEALTH_COMMAND],
        "Interval": 10,
        "Timeout": 5,
        "Retries": 3,
        "StartPeriod": 30,
    }
    assert environment(fargate)["CSM_COLLECTOR_METRICS_PORT"] == str(HEALTH_PORT)
    # the health port is not published: only the CSM and OTLP ports are mapped, and the endpoint binds 127.0.0.1
    assert [mapping["ContainerPort"] for mapping in container(fargate)["PortMappings"]] == [31000, 4318]


def test_the_dockerfile_has_the_same_health_check() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"ENV CSM_COLLECTOR_METRICS_PORT={HEALTH_PORT}\n" in dockerfile
    healthcheck = dockerfile[dockerfile.index("HEALTHCHECK ") :].split("\n\n", 1)[0].replace("\\\n", " ")
    assert "--interval=10s --timeout=5s --start-period=30s --retries=3" in healthcheck
    assert json.loads(healthcheck.split(" CMD ", 1)[1]) == list(HEALTH_COMMAND)


def test_the_probe_passes_while_listen_runs_and_fails_when_it_is_gone(tmp_path: Path) -> None:
    port = free_tcp_port()
    assert probe(port) == 1  # nothing there yet
    collector, _ = start_listen(tmp_path, "--metrics-port", str(port), "--quiet")
    assert probe(port) == 0
    collector.terminate()
    collector.wait(timeout=30)
    assert probe(port) == 1


def test_a_task_that_never_gets_healthy_rolls_the_deployment_back(fargate: SynthesizedApp) -> None:
    fargate.template(COLLECTOR_STACK).has_resource_properties(
        "AWS::ECS::Service",
        {
            "DeploymentConfiguration": Match.object_like(
                {"DeploymentCircuitBreaker": {"Enable": True, "Rollback": True}}
            )
        },
    )


def test_one_writer_at_a_time_the_old_task_stops_before_the_new_one_starts(fargate: SynthesizedApp) -> None:
    _, service = fargate.only_resource(COLLECTOR_STACK, "AWS::ECS::Service")
    configuration = service["Properties"]["DeploymentConfiguration"]
    assert (configuration["MinimumHealthyPercent"], configuration["MaximumPercent"]) == (0, 100)
    assert service["Properties"]["DesiredCount"] == 1
    # time for the final flush and publish after SIGTERM (the collector's 30 s publish timeout) before SIGKILL
    assert container(fargate)["StopTimeout"] == 60
