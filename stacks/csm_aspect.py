"""A CDK Aspect for your own apps: point every (or selected) Python Lambda function at the collector, or with
`otlp=True` every Node.js, Python and Java function, through an ADOT layer and OpenTelemetry.

    from stacks.csm_aspect import CsmMonitoring          # or copy this file: it needs only aws-cdk-lib
    cdk.Aspects.of(app).add(CsmMonitoring(ssm_prefix="/csm-collector"))
    cdk.Aspects.of(app).add(CsmMonitoring(ssm_prefix="/csm-collector", otlp=True))

For each matching function it sets AWS_CSM_ENABLED, AWS_CSM_HOST (the collector's address, read from
the SSM parameter `<prefix>/collector/address` at deploy time), AWS_CSM_PORT and AWS_CSM_CLIENT_ID (the
function's name when it has a fixed one, else its construct path), and adds the collector's workload
security group (from `<prefix>/collector/workload-security-group`) so UDP can reach the collector.
Functions that cannot report get a synth warning instead: runtimes whose bundled SDK does not emit
CSM (Node.js 18+, Java, custom runtimes) and functions outside a VPC.

The OTLP variant adds the ADOT layer of the function's language and architecture (the layer ARN per region
comes from aws-cdk-lib's region-info facts, a CloudFormation mapping in an environment-agnostic stack, the
same table `attach --otlp` uses), AWS_LAMBDA_EXEC_WRAPPER and the OTEL_* variables exporting every AWS SDK
span to `http://<address>:<otlp-port>/v1/traces` (both read from SSM at deploy time), with the function's name
as `OTEL_SERVICE_NAME`, and the workload security group (TCP to the OTLP port).

Then take what was learned into the functions' roles: learn (deploy with this Aspect, run the workload),
export (`csm-collector export --workload <function name> --format json --out policies/<name>.json`), commit
the file, and deploy with `LearnedPolicy(self, "Policy", policy_file=..., function=fn)` (stacks/learned_policy.py)
in place of the broad grants, and without this Aspect once nothing new is learned.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from aws_cdk import region_info
from constructs import IConstruct

from collector_runtime.contract import (
    ADOT_EXEC_WRAPPERS,
    COLLECTOR_ADDRESS,
    COLLECTOR_OTLP_PORT,
    COLLECTOR_PORT,
    CSM_CLIENT_ID,
    CSM_ENABLED,
    CSM_HOST,
    CSM_PORT,
    collector_parameter,
    otlp_endpoint,
    otlp_environment,
)

Selector = Callable[[lambda_.Function], bool]
WORKLOAD_GROUP_ID = "CsmWorkloads"
ADOT_LAYER_ID = "CsmAdotLayer"
# runtime family -> (language, the region-info layer type, the latest version aws-cdk-lib names)
ADOT_LAYERS: dict[lambda_.RuntimeFamily | None, tuple[str, str, str]] = {
    lambda_.RuntimeFamily.NODEJS: (
        "nodejs",
        "JAVASCRIPT_SDK",
        lambda_.AdotLambdaLayerJavaScriptSdkVersion.LATEST._layer_version,
    ),
    lambda_.RuntimeFamily.PYTHON: (
        "python",
        "PYTHON_SDK",
        lambda_.AdotLambdaLayerPythonSdkVersion.LATEST._layer_version,
    ),
    lambda_.RuntimeFamily.JAVA: ("java", "JAVA_SDK", lambda_.AdotLambdaLayerJavaSdkVersion.LATEST._layer_version),
}


@jsii.implements(cdk.IAspect)
class CsmMonitoring:
    def __init__(
        self,
        *,
        ssm_prefix: str = "/csm-collector",
        port: int | None = None,
        selector: Selector | None = None,
        otlp: bool = False,
    ) -> None:
        self.prefix = "/" + ssm_prefix.strip("/")
        self.port = port
        self.selector = selector
        self.otlp = otlp

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, lambda_.Function) or (self.selector and not self.selector(node)):
            return
        if self.otlp:
            self._visit_otlp(node)
            return
        if node.node.try_find_child(WORKLOAD_GROUP_ID) is not None:
            return  # visited already: a synthesis may run aspects more than once
        if node.runtime.family != lambda_.RuntimeFamily.PYTHON:
            self._warn(
                node,
                "runtime",
                f"{node.runtime.name}: its bundled SDK does not emit CSM; not pointed at the "
                "collector (Python runtimes do; so do JS SDK v2, Java SDK v1 and Go SDK v1)",
            )
            return
        if not node.is_bound_to_vpc:
            self._warn(node, "vpc", "not in a VPC: it cannot reach the collector's private address; not pointed at it")
            return
        node.add_environment(CSM_ENABLED, "true")
        node.add_environment(CSM_HOST, self._parameter(node, COLLECTOR_ADDRESS))
        node.add_environment(CSM_PORT, str(self.port) if self.port else self._parameter(node, COLLECTOR_PORT))
        node.add_environment(CSM_CLIENT_ID, client_id(node))
        self._add_workload_group(node, self._parameter(node, "workload-security-group"))

    def _visit_otlp(self, node: lambda_.Function) -> None:
        if node.node.try_find_child(ADOT_LAYER_ID) is not None:
            return  # visited already
        if node.runtime.family not in ADOT_LAYERS:
            self._warn(
                node, "runtime", f"{node.runtime.name}: no ADOT layer for this runtime; not pointed at the collector"
            )
            return
        if not node.is_bound_to_vpc:
            self._warn(node, "vpc", "not in a VPC: it cannot reach the collector's private address; not pointed at it")
            return
        language = add_adot_layer(node)
        port = str(self.port) if self.port else self._parameter(node, COLLECTOR_OTLP_PORT)
        endpoint = otlp_endpoint(self._parameter(node, COLLECTOR_ADDRESS), port)  # type: ignore[arg-type]
        environment = otlp_environment(
            endpoint, service_name=client_id(node), exec_wrapper=ADOT_EXEC_WRAPPERS[language]
        )
        for name, value in environment.items():
            node.add_environment(name, value)
        if node.node.try_find_child(WORKLOAD_GROUP_ID) is None:
            self._add_workload_group(node, self._parameter(node, "workload-security-group"))

    @staticmethod
    def _add_workload_group(node: lambda_.Function, group_id: str) -> None:
        """The function's VpcConfig is rendered when it is created, so the group is added to the
        CloudFormation resource as well as to its connections."""
        node.connections.add_security_group(ec2.SecurityGroup.from_security_group_id(node, WORKLOAD_GROUP_ID, group_id))
        groups = [group.security_group_id for group in node.connections.security_groups]
        resource = node.node.default_child
        if isinstance(resource, lambda_.CfnFunction):
            resource.add_property_override("VpcConfig.SecurityGroupIds", groups)

    def _parameter(self, node: lambda_.Function, name: str) -> str:
        return ssm.StringParameter.value_for_string_parameter(node, collector_parameter(self.prefix, name))

    @staticmethod
    def _warn(node: lambda_.Function, topic: str, message: str) -> None:
        cdk.Annotations.of(node).add_warning_v2(f"csm-collector:{topic}", f"csm-collector: {message}")


def client_id(function: lambda_.Function) -> str:
    """The function's fixed name if it has one (a token would refer to the function itself), else its path."""
    resource = function.node.default_child
    name = getattr(resource, "function_name", None)
    if isinstance(name, str) and not cdk.Token.is_unresolved(name):
        return name
    return function.node.path


def add_adot_layer(function: lambda_.Function) -> str:
    """Adds the ADOT layer of the function's runtime family and architecture; returns its language. The ARN comes
    from aws-cdk-lib's region-info facts (`Fn::FindInMap` over the regions that have the layer, when the stack's
    region is unknown at synth)."""
    language, layer_type, latest = ADOT_LAYERS[function.runtime.family]
    fact = region_info.FactName.adot_lambda_layer(layer_type, latest, function.architecture.name)
    arn = cdk.Stack.of(function).regional_fact(fact)
    function.add_layers(lambda_.LayerVersion.from_layer_version_arn(function, ADOT_LAYER_ID, arn))
    return language
