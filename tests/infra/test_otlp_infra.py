"""OTLP in the CDK app: TCP 4318 open on the collector's security group to the workload security group only, both
collectors listening for OTLP/HTTP on all interfaces, the port in SSM, and the Node.js demo function with the ADOT
layer and the OTEL_* environment pointing at the collector, allowed exactly its calls."""

from __future__ import annotations

from typing import Any

import pytest

from collector_runtime.contract import OTLP_VARIABLES
from stacks.app_builder import COLLECTOR_STACK
from stacks.collector_boot import listen_command
from stacks.config import CollectorConfig, ConfigError
from tests.infra.synth import SynthesizedApp, render_text
from tests.infra.test_demo import demo_statements, environment, function, staged_files

pytestmark = pytest.mark.slow
NODE_DEMO = "csm-collector-demo-node"


def ingress(app: SynthesizedApp) -> list[dict[str, Any]]:
    rules = [body["Properties"] for body in app.resources(COLLECTOR_STACK, "AWS::EC2::SecurityGroupIngress").values()]
    for group in app.resources(COLLECTOR_STACK, "AWS::EC2::SecurityGroup").values():
        rules += group["Properties"].get("SecurityGroupIngress", [])
    return rules


@pytest.mark.parametrize("variant", ["ec2", "fargate"])
def test_tcp_4318_is_open_to_the_workload_security_group_only(variant: str, request: pytest.FixtureRequest) -> None:
    app: SynthesizedApp = request.getfixturevalue(variant)
    tcp = [rule for rule in ingress(app) if rule["IpProtocol"] == "tcp"]
    assert [(rule["FromPort"], rule["ToPort"]) for rule in tcp] == [(4318, 4318)]
    (rule,) = tcp
    assert "SourceSecurityGroupId" in rule and "CidrIp" not in rule
    workload_group = app.resolve(rule["SourceSecurityGroupId"])["Fn::GetAtt"][0]
    assert workload_group.startswith("NetworkWorkloadSecurityGroup")


def test_allow_vpc_cidr_also_opens_otlp_to_the_vpc(ec2_custom: SynthesizedApp) -> None:
    assert {(r["IpProtocol"], r.get("CidrIp")) for r in ingress(ec2_custom) if "CidrIp" in r} == {
        ("udp", "10.9.0.0/20"),
        ("tcp", "10.9.0.0/20"),
    }


def test_the_ec2_unit_receives_otlp_on_all_interfaces(ec2: SynthesizedApp) -> None:
    _, instance = ec2.only_resource(COLLECTOR_STACK, "AWS::EC2::Instance")
    user_data = render_text(instance["Properties"]["UserData"])
    assert "listen --host 0.0.0.0 --port 31000 --otlp-port 4318 --otlp-host 0.0.0.0 --output-dir" in user_data
    assert listen_command(31000, 4318).endswith(
        "--otlp-port 4318 --otlp-host 0.0.0.0 --output-dir /var/lib/csm-collector --quiet"
    )


def test_the_fargate_container_receives_otlp_on_all_interfaces(fargate: SynthesizedApp) -> None:
    _, definition = fargate.only_resource(COLLECTOR_STACK, "AWS::ECS::TaskDefinition")
    (container,) = definition["Properties"]["ContainerDefinitions"]
    env = {item["Name"]: item["Value"] for item in container["Environment"]}
    assert (env["CSM_COLLECTOR_OTLP_PORT"], env["CSM_COLLECTOR_OTLP_HOST"]) == ("4318", "0.0.0.0")
    assert {"ContainerPort": 4318, "Protocol": "tcp"} in container["PortMappings"]
    # A quarter of a vCPU: a decode worker would add a process's memory and no intake.
    assert definition["Properties"]["Cpu"] == "256" and env["CSM_COLLECTOR_OTLP_DECODE_WORKERS"] == "0"


def test_the_otlp_port_is_published_in_ssm_and_as_an_output(ec2: SynthesizedApp) -> None:
    parameters = {
        body["Properties"]["Name"]: body["Properties"]["Value"]
        for body in ec2.resources(COLLECTOR_STACK, "AWS::SSM::Parameter").values()
    }
    assert parameters["/csm-collector/collector/otlp-port"] == "4318"
    endpoint = render_text(ec2.templates[COLLECTOR_STACK]["Outputs"]["CollectorOtlpEndpoint"]["Value"])
    assert endpoint.startswith("http://") and endpoint.endswith(":4318/v1/traces")


def test_the_otlp_port_is_a_context_key() -> None:
    assert CollectorConfig(otlp_port=4319).otlp_port == 4319
    for bad in (80, 9100, 70000):
        with pytest.raises(ConfigError, match="otlpPort"):
            CollectorConfig(otlp_port=bad)


def test_the_node_demo_exports_to_the_collector_through_the_adot_layer(ec2: SynthesizedApp) -> None:
    properties = function(ec2, NODE_DEMO)
    assert (properties["Runtime"], properties["Architectures"], properties["Handler"]) == (
        "nodejs22.x",
        ["arm64"],
        "index.handler",
    )
    assert staged_files(ec2, properties) == ["index.js"]  # the plain folder: the runtime bundles the SDK v3
    (layer,) = properties["Layers"]  # from aws-cdk-lib's region-info facts, as attach --otlp's table
    assert render_text(layer).startswith(
        'arn:aws:lambda:{{"Ref": "AWS::Region"}}:901920570463:layer:aws-otel-nodejs-arm64-ver-'
    )
    env = environment(ec2, NODE_DEMO)
    assert set(OTLP_VARIABLES) <= set(env)
    assert (env["AWS_LAMBDA_EXEC_WRAPPER"], env["OTEL_TRACES_SAMPLER"]) == ("/opt/otel-handler", "always_on")
    assert env["OTEL_SERVICE_NAME"] == NODE_DEMO and "AWS_CSM_ENABLED" not in env
    instance_id, _ = ec2.only_resource(COLLECTOR_STACK, "AWS::EC2::Instance")
    endpoint = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]["Fn::Join"][1]
    assert [ec2.resolve(part) for part in endpoint] == [
        "http://",
        {"Fn::GetAtt": [instance_id, "PrivateIp"]},
        ":4318/v1/traces",
    ]


def test_the_node_demo_role_allows_exactly_its_calls(ec2: SynthesizedApp) -> None:
    statements = demo_statements(ec2, NODE_DEMO)
    assert set(statements) == {"DemoObject", "ListDemoPrefix", "ReadCollectorAddress"}
    assert statements["DemoObject"]["Resource"]["Fn::Join"][1][1] == f"/demo/{NODE_DEMO}.json"
    assert environment(ec2, NODE_DEMO)["DEMO_OBJECT_KEY"] == f"demo/{NODE_DEMO}.json"


def test_the_fargate_collector_name_reaches_the_node_demo(fargate: SynthesizedApp) -> None:
    endpoint = environment(fargate, NODE_DEMO)["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]
    assert endpoint == "http://collector.csm.internal:4318/v1/traces"
