"""Acknowledging cdk-nag (and CloudFormation Validate / cfn-lint) findings: always on one resource's
construct, never on a stack, always with a reason that says why the finding does not apply."""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

import aws_cdk as cdk
from constructs import IConstruct


def acknowledge(construct: IConstruct, rule_id: str, reason: str) -> None:
    """Acknowledge one finding (`AwsSolutions-EC28`, `AwsSolutions-IAM5[Resource::*]`) on one construct."""
    if isinstance(construct, cdk.Stack):
        raise ValueError(f"acknowledge {rule_id} on a resource, not on the whole stack {construct.node.path}")
    if not reason.strip():
        raise ValueError(f"acknowledging {rule_id} needs a reason")
    cdk.Validations.of(construct).acknowledge(cdk.Acknowledgment(id=rule_id, reason=reason))


def cfn_resource(construct: IConstruct) -> cdk.CfnResource:
    """The CloudFormation resource behind an L2 construct (or the construct itself when it is one)."""
    if isinstance(construct, cdk.CfnResource):
        return construct
    return cast(cdk.CfnResource, construct.node.default_child)


def nag_ref(construct: IConstruct, attribute: str | None = None) -> str:
    """How cdk-nag prints a reference to a resource inside a finding id: `<LogicalId.Attribute>` or `<LogicalId>`."""
    resource = cfn_resource(construct)
    logical_id = cdk.Stack.of(resource).get_logical_id(resource)
    return f"<{logical_id}.{attribute}>" if attribute else f"<{logical_id}>"


def ignore_in_cfn_lint(construct: IConstruct, rule_ids: Sequence[str]) -> None:
    """Resource-level cfn-lint suppression (template Metadata), for findings also acknowledged in CDK."""
    cfn_resource(construct).add_metadata("cfn-lint", {"config": {"ignore_checks": list(rule_ids)}})


def accept_image_resolved_at_launch(instance: IConstruct) -> None:
    """`resolve:ssm:` image ids are valid for EC2 but fail the `ami-...` pattern of the template linters."""
    reason = (
        "ImageId is 'resolve:ssm:<public AL2023 parameter>': EC2 resolves it when the instance launches, "
        "so a newer AMI release does not replace the instance on the next deploy"
    )
    acknowledge(instance, "CloudFormation-Validate::E1152", reason)
    ignore_in_cfn_lint(instance, ["E1152"])
