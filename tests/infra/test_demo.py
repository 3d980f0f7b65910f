"""The demo Lambda: CSM pointed at the collector (private IP or DNS name), in the private subnets with the
workload security group, allowed exactly the calls it makes."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
import pytest

from stacks.app_builder import COLLECTOR_STACK, DEMO_STACK, NETWORK_STACK, build_stacks
from stacks.config import config_from_context
from tests.infra.synth import SynthesizedApp, new_app, render_text

pytestmark = pytest.mark.slow


def function_resource(app: SynthesizedApp, name: str = "csm-collector-demo") -> tuple[str, dict[str, Any]]:
    """The demo function of that name (the stack also holds the Node.js demo) and its logical id."""
    (found,) = [
        (logical_id, body)
        for logical_id, body in app.resources(DEMO_STACK, "AWS::Lambda::Function").items()
        if body["Properties"].get("FunctionName") == name
    ]
    return found


def function(app: SynthesizedApp, name: str = "csm-collector-demo") -> dict[str, Any]:
    return dict(function_resource(app, name)[1]["Properties"])


def role(app: SynthesizedApp, name: str = "csm-collector-demo") -> dict[str, Any]:
    role_id = function(app, name)["Role"]["Fn::GetAtt"][0]
    return dict(app.templates[DEMO_STACK]["Resources"][role_id])


def environment(app: SynthesizedApp, name: str = "csm-collector-demo") -> dict[str, Any]:
    return dict(function(app, name)["Environment"]["Variables"])


def demo_statements(app: SynthesizedApp, name: str = "csm-collector-demo") -> dict[str, dict[str, Any]]:
    policies = {
        policy["PolicyName"]: policy["PolicyDocument"]["Statement"]
        for policy in role(app, name)["Properties"]["Policies"]
    }
    assert set(policies) == {"DemoCalls", "WriteLogs", "VpcNetworking"}
    return {statement["Sid"]: statement for statement in policies["DemoCalls"]}


def test_csm_points_at_the_ec2_collectors_private_ip(ec2: SynthesizedApp) -> None:
    env = environment(ec2)
    instance_id, _ = ec2.only_resource(COLLECTOR_STACK, "AWS::EC2::Instance")
    assert ec2.resolve(env["AWS_CSM_HOST"]) == {"Fn::GetAtt": [instance_id, "PrivateIp"]}
    assert (env["AWS_CSM_ENABLED"], env["AWS_CSM_PORT"]) == ("true", "31000")


def test_csm_points_at_the_fargate_collectors_dns_name(fargate: SynthesizedApp) -> None:
    assert environment(fargate)["AWS_CSM_HOST"] == "collector.csm.internal"


def test_the_workload_name_is_the_function_name(ec2: SynthesizedApp) -> None:
    assert function(ec2)["FunctionName"] == "csm-collector-demo"
    assert environment(ec2)["AWS_CSM_CLIENT_ID"] == "csm-collector-demo"


def test_port_and_parameter_follow_the_context(ec2_custom: SynthesizedApp) -> None:
    env = environment(ec2_custom)
    assert env["AWS_CSM_PORT"] == "31001"
    assert env["COLLECTOR_ADDRESS_PARAMETER"] == "/team/csm/collector/address"


def test_python_312_on_arm64_from_the_lambda_demo_folder(ec2: SynthesizedApp) -> None:
    properties = function(ec2)
    assert (properties["Runtime"], properties["Architectures"], properties["Handler"]) == (
        "python3.12",
        ["arm64"],
        "handler.handler",
    )
    assert staged_files(ec2, properties) == ["handler.py"]


def staged_files(app: SynthesizedApp, properties: dict[str, Any]) -> list[str]:
    """The files of a function's code asset."""
    key = properties["Code"]["S3Key"]
    (asset,) = [
        asset
        for asset in app.asset_manifest(DEMO_STACK)["files"].values()
        if any(destination["objectKey"] == key for destination in asset["destinations"].values())
    ]
    return sorted(path.name for path in (app.outdir / asset["source"]["path"]).iterdir())


def test_in_the_private_subnets_with_the_workload_security_group(ec2: SynthesizedApp) -> None:
    vpc_config = function(ec2)["VpcConfig"]
    (security_group,) = vpc_config["SecurityGroupIds"]
    workload_group = ec2.resolve(security_group)["Fn::GetAtt"][0]
    network = ec2.templates[NETWORK_STACK]["Resources"]
    assert network[workload_group]["Properties"]["GroupDescription"].startswith("csm-collector workloads")
    subnets = [network[ec2.resolve(subnet)["Ref"]]["Properties"] for subnet in vpc_config["SubnetIds"]]
    assert len(subnets) == 2
    assert all({"Key": "aws-cdk:subnet-type", "Value": "Private"} in subnet["Tags"] for subnet in subnets)


def test_the_role_allows_exactly_the_demo_calls(ec2: SynthesizedApp) -> None:
    statements = demo_statements(ec2)
    assert set(statements) == {"DemoObject", "ListDemoPrefix", "ReadCollectorAddress"}
    demo_object = statements["DemoObject"]
    assert sorted(demo_object["Action"]) == ["s3:GetObject", "s3:PutObject"]
    bucket_arn, key = demo_object["Resource"]["Fn::Join"][1]
    assert ec2.resolve(bucket_arn) == {"Fn::GetAtt": [ec2.results_bucket_id(), "Arn"]}
    assert key == "/demo/csm-collector-demo.json"
    assert environment(ec2)["DEMO_OBJECT_KEY"] == "demo/csm-collector-demo.json"
    listing = statements["ListDemoPrefix"]
    assert listing["Action"] == "s3:ListBucket"
    assert ec2.resolve(listing["Resource"]) == {"Fn::GetAtt": [ec2.results_bucket_id(), "Arn"]}
    assert listing["Condition"] == {"StringEquals": {"s3:prefix": "demo/"}}
    parameter = statements["ReadCollectorAddress"]
    assert parameter["Action"] == "ssm:GetParameter"
    assert render_text(parameter["Resource"]).endswith(":parameter/csm-collector/collector/address")


def test_the_roles_have_no_managed_policies(ec2: SynthesizedApp) -> None:
    for _, body in ec2.resources(DEMO_STACK, "AWS::IAM::Role").items():
        assert "ManagedPolicyArns" not in body["Properties"]


def test_outputs_say_how_to_invoke_it(ec2: SynthesizedApp) -> None:
    outputs = ec2.templates[DEMO_STACK]["Outputs"]
    function_id, _ = function_resource(ec2)
    assert outputs["InvokeCommand"]["Value"] == {
        "Fn::Join": ["", ["aws lambda invoke --function-name ", {"Ref": function_id}, " out.json"]]
    }


def test_demo_false_leaves_the_demo_stack_out() -> None:
    app = new_app({"demo": "false"})
    stacks = build_stacks(app, config_from_context(app.node))
    assert stacks.demo is None
    assert [child.node.id for child in app.node.children if isinstance(child, cdk.Stack)] == [
        "CsmCollectorNetwork",
        "CsmCollectorStorage",
        "CsmCollector",
    ]
