"""attach --otlp / detach against Lambda (functions with layers), EC2 and SSM in moto: the ADOT layer of the
function's language, region and architecture, the OTEL_* environment, exact restore, RevisionId, warnings.

moto checks that a function's layers exist and finds them by name and version in its own account: the fixture
publishes stand-ins named like the table's ADOT layers, so the table's real ARNs pass its check (moto then lists
the stand-in's ARN: layers are compared by NAME:VERSION here)."""

from __future__ import annotations

import json
from typing import Any
from unittest.mock import ANY

import boto3
import pytest

from collector_runtime.contract import SAVED_OTLP
from collector_runtime.core.lambda_env import AttachError
from collector_runtime.core.lambda_otlp import Layer, adot_layer, attach_otlp, detach_otlp
from collector_runtime.data import load_adot_layers
from tests.commands.test_attach import aws, env, run  # noqa: F401  (the moto fixture)

TABLE = load_adot_layers()
REGION = "us-east-1"
NODE_LAYER = TABLE["nodejs"]["arns"][REGION]["arm64"]
PYTHON_LAYER = TABLE["python"]["arns"][REGION]["x86_64"]


@pytest.fixture
def otlp_aws(aws: Any) -> Any:  # noqa: F811
    lam = aws
    for arn in (NODE_LAYER, PYTHON_LAYER):
        name = arn.split(":layer:")[1].rsplit(":", 1)[0]
        lam.publish_layer_version(LayerName=name, Content={"ZipFile": b"PK"})
    own = lam.publish_layer_version(LayerName="shared-utils", Content={"ZipFile": b"PK"})["LayerVersionArn"]
    role = lam.get_function_configuration(FunctionName="orders")["Role"]
    vpc = lam.get_function_configuration(FunctionName="orders")["VpcConfig"]
    lam.create_function(
        FunctionName="api",
        Runtime="nodejs20.x",
        Architectures=["arm64"],
        Role=role,
        Handler="index.handler",
        Code={"ZipFile": b"PK"},
        Layers=[own],
        Environment={"Variables": {"OTEL_SERVICE_NAME": "mine", "KEEP": "1"}},
        VpcConfig={"SubnetIds": vpc["SubnetIds"], "SecurityGroupIds": vpc["SecurityGroupIds"]},
    )
    boto3.client("ssm").put_parameter(Name="/csm-collector/collector/otlp-port", Value="4318", Type="String")
    return lam, own


def layers(lam: Any, name: str) -> list[str]:
    """NAME:VERSION of each layer (moto lists its stand-ins' ARNs, in its own account)."""
    return [
        layer["Arn"].split(":layer:")[1]
        for layer in lam.get_function_configuration(FunctionName=name).get("Layers", [])
    ]


def named(arn: str) -> str:
    return arn.split(":layer:")[1]


def test_attach_otlp_then_detach_restores_layers_and_environment_exactly(otlp_aws: Any) -> None:
    lam, own = otlp_aws
    before = env(lam, "api")
    code, text = run(["attach", "--otlp", "api", "--ssm-prefix", "/csm-collector"])
    assert code == 0 and "warning" not in text, text
    assert layers(lam, "api") == [named(own), named(NODE_LAYER)]  # Node.js, arm64, us-east-1, from the table
    attached = env(lam, "api")
    assert attached["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/otel-handler"
    assert attached["OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"] == "http://10.20.1.50:4318/v1/traces"
    assert attached["OTEL_EXPORTER_OTLP_TRACES_PROTOCOL"] == "http/protobuf"
    assert (attached["OTEL_TRACES_SAMPLER"], attached["OTEL_SERVICE_NAME"], attached["KEEP"]) == (
        "always_on",
        "api",
        "1",
    )
    assert json.loads(attached[SAVED_OTLP]) == {"added": NODE_LAYER, "layers": [own], "variables": ANY}
    code, _ = run(["attach", "--otlp", "api", "--ssm-prefix", "/csm-collector", "--client-id", "web"])
    assert code == 0 and env(lam, "api")["OTEL_SERVICE_NAME"] == "web" and len(layers(lam, "api")) == 2
    code, text = run(["detach", "api"])
    assert code == 0 and "warning" not in text
    assert env(lam, "api") == before and layers(lam, "api") == [named(own)]


def test_python_functions_get_the_python_layer_and_csm_and_otlp_detach_together(otlp_aws: Any) -> None:
    lam, _ = otlp_aws
    before = env(lam, "orders")
    assert run(["attach", "orders", "--ssm-prefix", "/csm-collector"])[0] == 0
    assert run(["attach", "--otlp", "orders", "--ssm-prefix", "/csm-collector"])[0] == 0
    assert layers(lam, "orders") == [named(PYTHON_LAYER)]
    assert env(lam, "orders")["AWS_LAMBDA_EXEC_WRAPPER"] == "/opt/otel-instrument"
    assert run(["detach", "orders"])[0] == 0
    assert env(lam, "orders") == before and layers(lam, "orders") == []


def test_dry_run_changes_nothing_and_shows_the_layer(otlp_aws: Any) -> None:
    lam, own = otlp_aws
    code, text = run(["attach", "--otlp", "api", "--host", "10.20.1.50", "--dry-run"])
    assert code == 0 and f"+ layer {NODE_LAYER}" in text and "+ AWS_LAMBDA_EXEC_WRAPPER=/opt/otel-handler" in text
    assert layers(lam, "api") == [named(own)] and SAVED_OTLP not in env(lam, "api")


@pytest.mark.usefixtures("otlp_aws")
def test_warnings_name_the_tcp_port() -> None:
    code, text = run(["attach", "--otlp", "locked", "--ssm-prefix", "/csm-collector"])
    assert code == 0
    assert "allow no TCP egress to 10.20.1.50:4318" in text and "allow TCP 4318" in text


def test_unsupported_runtimes_and_regions_are_refused(otlp_aws: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    lam, _ = otlp_aws
    role = lam.get_function_configuration(FunctionName="orders")["Role"]
    lam.create_function(FunctionName="go", Runtime="provided.al2023", Role=role, Handler="b", Code={"ZipFile": b"PK"})
    code, _ = run(["attach", "--otlp", "go", "--host", "10.0.0.1"])
    assert code == 1 and SAVED_OTLP not in (lam.get_function_configuration(FunctionName="go").get("Environment") or {})
    with pytest.raises(AttachError, match="--layer-arn"):
        adot_layer(TABLE, "nodejs22.x", "il-central-1", "x86_64")


def test_a_given_layer_and_the_distro_layers_wrapper() -> None:
    distro = "arn:aws:lambda:eu-west-1:615299751070:layer:AWSOpenTelemetryDistroJs:10"
    assert adot_layer(TABLE, "nodejs22.x", "eu-west-1", "arm64", layer_arn=distro) == Layer(
        distro, "/opt/otel-instrument"
    )
    code, _ = run(["attach", "--layer-arn", distro, "f", "--host", "10.0.0.1"])
    assert code == 2  # --layer-arn without --otlp


def test_another_adot_layer_or_a_full_layer_list_is_refused_and_detach_keeps_foreign_changes() -> None:
    layer = Layer(NODE_LAYER, "/opt/otel-handler")
    with pytest.raises(AttachError, match="already has an ADOT layer"):
        attach_otlp({}, [PYTHON_LAYER], layer=layer, endpoint="http://c:4318/v1/traces", service_name="s")
    five = [f"arn:aws:lambda:us-east-1:123456789012:layer:l{i}:1" for i in range(5)]
    with pytest.raises(AttachError, match="limit"):
        attach_otlp({}, five, layer=layer, endpoint="http://c:4318/v1/traces", service_name="s")
    attached = attach_otlp({"A": "1"}, five[:1], layer=layer, endpoint="http://c:4318/v1/traces", service_name="s")
    restored = detach_otlp(attached.environment, [*attached.layers, five[1]])
    assert restored.environment == {"A": "1"} and restored.layers == [five[0], five[1]]
    assert restored.warnings and "kept the rest" in restored.warnings[0]
