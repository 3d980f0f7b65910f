"""`-c proxy=true`: the HTTPS proxy next to the Fargate collector, its port open to workloads only, its CA
key in a secret only the task role can read or write; off by default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector_runtime.contract import DEFAULT_PROXY_PORT
from stacks.app_builder import COLLECTOR_STACK
from stacks.config import ConfigError, config_from_context
from stacks.proxy_container import PROXY_HEALTH_PORT, SECRET_VALUE_ACTIONS
from tests.infra.synth import REPO_ROOT, SynthesizedApp, new_app

pytestmark = pytest.mark.slow


def containers(app: SynthesizedApp) -> dict[str, dict[str, Any]]:
    _, task = app.only_resource(COLLECTOR_STACK, "AWS::ECS::TaskDefinition")
    return {c["Name"]: c for c in task["Properties"]["ContainerDefinitions"]}


def proxy_ingress(app: SynthesizedApp) -> list[dict[str, Any]]:
    return [
        body["Properties"]
        for _, _, body in app.all_resources()
        if body["Type"] == "AWS::EC2::SecurityGroupIngress" and body["Properties"].get("FromPort") == DEFAULT_PROXY_PORT
    ]


def test_off_by_default(fargate: SynthesizedApp, ec2: SynthesizedApp) -> None:
    assert list(containers(fargate)) == ["collector"]
    for app in (fargate, ec2):
        assert proxy_ingress(app) == []
        assert not any(body["Type"] == "AWS::SecretsManager::Secret" for _, _, body in app.all_resources())


def test_the_proxy_port_is_open_to_the_workload_security_group_only(fargate_proxy: SynthesizedApp) -> None:
    (rule,) = proxy_ingress(fargate_proxy)
    assert (rule["IpProtocol"], rule["ToPort"]) == ("tcp", DEFAULT_PROXY_PORT)
    assert "SourceSecurityGroupId" in rule and "CidrIp" not in rule


def test_the_proxy_runs_next_to_the_collector_from_the_same_image(fargate_proxy: SynthesizedApp) -> None:
    found = containers(fargate_proxy)
    assert list(found) == ["collector", "proxy"]
    proxy = found["proxy"]
    assert proxy["Image"] == found["collector"]["Image"] and proxy["Essential"] is True
    assert proxy["PortMappings"] == [{"ContainerPort": DEFAULT_PROXY_PORT, "Protocol": "tcp"}]
    assert proxy["Command"][:4] == ["proxy", "--host", "0.0.0.0", "--port"] and "--ca-secret" in proxy["Command"]
    environment = {item["Name"]: item["Value"] for item in proxy["Environment"]}
    assert environment["CSM_COLLECTOR_S3_PREFIX"] == "collector/proxy/"  # its own writer, never the collector's files
    assert "CSM_COLLECTOR_SSM_PREFIX" not in environment
    assert environment["CSM_COLLECTOR_METRICS_PORT"] == str(PROXY_HEALTH_PORT)
    (image,) = fargate_proxy.asset_manifest(COLLECTOR_STACK)["dockerImages"].values()
    assert image["source"]["dockerBuildArgs"] == {"PROXY": "true"}


def test_the_ca_key_secret_is_readable_and_writable_by_the_task_role_only(fargate_proxy: SynthesizedApp) -> None:
    secret_id, _ = fargate_proxy.only_resource(COLLECTOR_STACK, "AWS::SecretsManager::Secret")
    _, policy = fargate_proxy.only_resource(COLLECTOR_STACK, "AWS::SecretsManager::ResourcePolicy")
    (deny,) = policy["Properties"]["ResourcePolicy"]["Statement"]
    assert deny["Effect"] == "Deny" and deny["Principal"] == {"AWS": "*"}
    assert sorted(deny["Action"]) == sorted(SECRET_VALUE_ACTIONS)
    role = deny["Condition"]["ArnNotEquals"]["aws:PrincipalArn"]
    assert role["Fn::GetAtt"][0].startswith("FargateTaskRole")
    granted = [
        statement
        for _, _, body in fargate_proxy.all_resources()
        if body["Type"] == "AWS::IAM::Policy"
        for statement in body["Properties"]["PolicyDocument"]["Statement"]
        if statement.get("Resource") == {"Ref": secret_id}
    ]
    assert {"secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"} <= {
        action for statement in granted for action in statement["Action"]
    }


def test_the_image_installs_the_proxy_only_when_asked() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert "ARG PROXY=false" in dockerfile
    assert 'if [ "$PROXY" = "true" ]; then' in dockerfile
    assert "pip install --no-deps --requirement /tmp/csm-collector/proxy-requirements.txt" in dockerfile
    pinned = (REPO_ROOT / "proxy-requirements.txt").read_text()
    assert "mitmproxy==11.0.2" in pinned and "cryptography==44.0.3" in pinned


def test_the_proxy_needs_the_fargate_collector(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="proxy=true: needs collector=fargate"):
        config_from_context(new_app({"proxy": "true"}, tmp_path).node)
