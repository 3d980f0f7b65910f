"""The LearnedPolicy construct takes an exported policy file into a function's role: the synthesized
managed policies are the learned policy in the stack's account and region, each under IAM's size limit."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import aws_cdk as cdk
import pytest
from aws_cdk import assertions
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_

from collector_runtime.core.export import export_policy, render
from collector_runtime.core.policy_size import MANAGED_POLICY_MAX_CHARS, policy_size
from stacks.learned_policy import LearnedPolicy
from tests.export.policies import (
    LEARNED,
    POLICY,
    TARGET_ACCOUNT,
    TARGET_REGION,
    big_policy,
    in_target,
    merged,
    normalised,
)
from tests.export.resolving import intrinsics

pytestmark = pytest.mark.slow


def _stack() -> cdk.Stack:
    return cdk.Stack(cdk.App(), "Target", env=cdk.Environment(account=TARGET_ACCOUNT, region=TARGET_REGION))


def _documents(stack: cdk.Stack) -> list[dict[str, Any]]:
    resources = assertions.Template.from_stack(stack).to_json()["Resources"]
    return [
        intrinsics(resources[key]["Properties"]["PolicyDocument"])
        for key in sorted(resources)
        if resources[key]["Type"] == "AWS::IAM::ManagedPolicy"
    ]


@pytest.mark.parametrize("document", [POLICY, big_policy()], ids=["small", "split"])
def test_an_exported_file_becomes_the_functions_managed_policies(tmp_path: Path, document: dict[str, Any]) -> None:
    policy_file = tmp_path / "orders-api.json"
    policy_file.write_text(render("json", export_policy("orders-api", document, LEARNED)))
    stack = _stack()
    function = lambda_.Function(
        stack,
        "Fn",
        runtime=lambda_.Runtime.PYTHON_3_12,
        handler="index.handler",
        code=lambda_.Code.from_inline("def handler(event, context): return None"),
    )
    learned = LearnedPolicy(stack, "Learned", policy_file=policy_file, function=function)
    documents = _documents(stack)
    assert len(documents) == len(learned.policies) == (1 if document is POLICY else len(documents)) >= 1
    assert all(policy_size(d) <= MANAGED_POLICY_MAX_CHARS for d in documents)
    assert normalised(merged([normalised(d) for d in documents])) == normalised(in_target(document))
    assert (len(documents) > 1) == (document is not POLICY)
    role_id = stack.get_logical_id(function.role.node.default_child)  # type: ignore[union-attr, arg-type]
    template = assertions.Template.from_stack(stack)
    template.resource_count_is("AWS::IAM::ManagedPolicy", len(documents))
    template.has_resource_properties("AWS::IAM::ManagedPolicy", {"Roles": [{"Ref": role_id}]})


def test_it_needs_a_role(tmp_path: Path) -> None:
    policy_file = tmp_path / "p.json"
    policy_file.write_text(render("json", export_policy("w", POLICY, LEARNED)))
    stack = _stack()
    role = iam.Role(stack, "Role", assumed_by=iam.ServicePrincipal("lambda.amazonaws.com"))
    assert len(LearnedPolicy(stack, "WithRole", policy_file=policy_file, role=role).policies) == 1
    with pytest.raises(ValueError, match="needs a role"):
        LearnedPolicy(stack, "Nothing", policy_file=policy_file)
