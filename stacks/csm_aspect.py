"""A CDK Aspect for your own apps: point every (or selected) Python Lambda function at the collector.

    from stacks.csm_aspect import CsmMonitoring          # or copy this file: it needs only aws-cdk-lib
    cdk.Aspects.of(app).add(CsmMonitoring(ssm_prefix="/csm-collector"))

For each matching function it sets AWS_CSM_ENABLED, AWS_CSM_HOST (the collector's address, read from
the SSM parameter `<prefix>/collector/address` at deploy time), AWS_CSM_PORT and AWS_CSM_CLIENT_ID (the
function's name when it has a fixed one, else its construct path), and adds the collector's workload
security group (from `<prefix>/collector/workload-security-group`) so UDP can reach the collector.
Functions that cannot report get a synth warning instead: runtimes whose bundled SDK does not emit
CSM (Node.js 18+, Java, custom runtimes) and functions outside a VPC.
"""

from __future__ import annotations

from collections.abc import Callable

import aws_cdk as cdk
import jsii
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_lambda as lambda_
from aws_cdk import aws_ssm as ssm
from constructs import IConstruct

from collector_runtime.contract import (
    COLLECTOR_ADDRESS,
    COLLECTOR_PORT,
    CSM_CLIENT_ID,
    CSM_ENABLED,
    CSM_HOST,
    CSM_PORT,
    collector_parameter,
)

Selector = Callable[[lambda_.Function], bool]
WORKLOAD_GROUP_ID = "CsmWorkloads"


@jsii.implements(cdk.IAspect)
class CsmMonitoring:
    def __init__(
        self, *, ssm_prefix: str = "/csm-collector", port: int | None = None, selector: Selector | None = None
    ) -> None:
        self.prefix = "/" + ssm_prefix.strip("/")
        self.port = port
        self.selector = selector

    def visit(self, node: IConstruct) -> None:
        if not isinstance(node, lambda_.Function) or (self.selector and not self.selector(node)):
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
