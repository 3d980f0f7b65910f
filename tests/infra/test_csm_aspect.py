"""The Aspect users add to their own CDK apps: Python functions in a VPC are pointed at the collector,
the others get a warning and are left alone."""

from __future__ import annotations

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_

from stacks.csm_aspect import CsmMonitoring


def user_app(aspect: CsmMonitoring) -> tuple[cdk.Stack, assertions.Template]:
    app = cdk.App()
    stack = cdk.Stack(app, "UserApp")
    vpc = ec2.Vpc(
        stack,
        "Vpc",
        max_azs=2,
        nat_gateways=0,
        subnet_configuration=[ec2.SubnetConfiguration(name="private", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED)],
    )
    code = lambda_.Code.from_inline("def handler(event, context):\n    return 1\n")

    def function(name: str, runtime: lambda_.Runtime, *, in_vpc: bool, fixed_name: str | None = None) -> None:
        lambda_.Function(
            stack,
            name,
            runtime=runtime,
            handler="index.handler",
            code=code,
            function_name=fixed_name,
            vpc=vpc if in_vpc else None,
        )

    function("Orders", lambda_.Runtime.PYTHON_3_12, in_vpc=True, fixed_name="orders-api")
    function("Reports", lambda_.Runtime.PYTHON_3_13, in_vpc=True)
    function("Frontend", lambda_.Runtime.NODEJS_20_X, in_vpc=True)
    function("Public", lambda_.Runtime.PYTHON_3_12, in_vpc=False)
    function("Excluded", lambda_.Runtime.PYTHON_3_12, in_vpc=True, fixed_name="excluded-fn")
    cdk.Aspects.of(app).add(aspect)
    return stack, assertions.Template.from_stack(stack)


@pytest.fixture(scope="module")
def synthesized() -> tuple[cdk.Stack, assertions.Template]:
    return user_app(CsmMonitoring(ssm_prefix="/csm-collector", selector=lambda f: f.node.id != "Excluded"))


def functions(template: assertions.Template) -> dict[str, dict[str, str]]:
    found = template.find_resources("AWS::Lambda::Function")
    return {name: body["Properties"].get("Environment", {}).get("Variables", {}) for name, body in found.items()}


def test_python_functions_in_a_vpc_report_to_the_collector(synthesized: tuple[cdk.Stack, assertions.Template]) -> None:
    _, template = synthesized
    env = {name[:-8]: variables for name, variables in functions(template).items()}  # drop the hash
    orders = env["Orders"]
    assert orders["AWS_CSM_ENABLED"] == "true" and orders["AWS_CSM_CLIENT_ID"] == "orders-api"
    assert orders["AWS_CSM_HOST"]["Ref"].startswith("SsmParameterValuecsmcollectorcollectoraddress")
    assert env["Reports"]["AWS_CSM_CLIENT_ID"] == "UserApp/Reports"
    for untouched in ("Frontend", "Public", "Excluded"):
        assert "AWS_CSM_ENABLED" not in env[untouched]
    parameters = template.to_json()["Parameters"]
    defaults = {p["Default"] for p in parameters.values() if p["Default"].startswith("/csm-collector")}
    assert defaults == {
        "/csm-collector/collector/address",
        "/csm-collector/collector/port",
        "/csm-collector/collector/workload-security-group",
    }


def test_the_workload_security_group_is_added(synthesized: tuple[cdk.Stack, assertions.Template]) -> None:
    _, template = synthesized
    for name, body in template.find_resources("AWS::Lambda::Function").items():
        groups = body["Properties"].get("VpcConfig", {}).get("SecurityGroupIds", [])
        expected = 2 if name.startswith(("Orders", "Reports")) else (1 if not name.startswith("Public") else 0)
        assert len(groups) == expected, name


def test_functions_that_cannot_report_get_a_warning(synthesized: tuple[cdk.Stack, assertions.Template]) -> None:
    stack, _ = synthesized
    annotations = assertions.Annotations.from_stack(stack)
    annotations.has_warning("/UserApp/Frontend", assertions.Match.string_like_regexp("does not emit CSM"))
    annotations.has_warning("/UserApp/Public", assertions.Match.string_like_regexp("not in a VPC"))


def test_a_fixed_port_needs_no_parameter() -> None:
    _, template = user_app(CsmMonitoring(port=31001))
    for name, variables in functions(template).items():
        if name.startswith("Orders"):
            assert variables["AWS_CSM_PORT"] == "31001"


def test_the_otlp_variant_adds_the_adot_layer_and_environment_to_node_python_and_java() -> None:
    stack, template = user_app(CsmMonitoring(otlp=True, selector=lambda f: f.node.id != "Excluded"))
    found = template.find_resources("AWS::Lambda::Function")
    by_name = {name[:-8]: body["Properties"] for name, body in found.items()}
    for name, language, wrapper in (
        ("Orders", "python", "/opt/otel-instrument"),
        ("Frontend", "nodejs", "/opt/otel-handler"),
    ):
        properties = by_name[name]
        (layer,) = properties["Layers"]  # the region-info fact: one ARN format for every region that has it
        prefix, region, layer_name = layer["Fn::Join"][1]
        assert (prefix, region) == ("arn:aws:lambda:", {"Ref": "AWS::Region"})
        assert layer_name.startswith(f":901920570463:layer:aws-otel-{language}-amd64-ver-")
        env = properties["Environment"]["Variables"]
        assert (env["AWS_LAMBDA_EXEC_WRAPPER"], env["OTEL_TRACES_SAMPLER"]) == (wrapper, "always_on")
        parts = env["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"]["Fn::Join"][1]
        assert parts[0] == "http://" and parts[-1] == "/v1/traces"
        assert parts[1]["Ref"].startswith("SsmParameterValuecsmcollectorcollectoraddress")
        assert parts[3]["Ref"].startswith("SsmParameterValuecsmcollectorcollectorotlpport")
        assert "AWS_CSM_ENABLED" not in env
        assert len(properties["VpcConfig"]["SecurityGroupIds"]) == 2
    assert by_name["Orders"]["Environment"]["Variables"]["OTEL_SERVICE_NAME"] == "orders-api"
    for untouched in ("Public", "Excluded"):
        assert "Layers" not in by_name[untouched]
    annotations = assertions.Annotations.from_stack(stack)
    annotations.has_warning("/UserApp/Public", assertions.Match.string_like_regexp("not in a VPC"))
