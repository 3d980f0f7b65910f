"""A CDK construct for your own apps: the least-privilege policy csm-collector learned for a workload, taken
into the role (or a function's role) from the exported file you committed.

    csm-collector export --workload orders-api --format json --out policies/orders-api.json   # then commit it

    from stacks.learned_policy import LearnedPolicy      # or copy this file: it needs only aws-cdk-lib
    LearnedPolicy(self, "OrdersApiPolicy", policy_file="policies/orders-api.json", function=orders_fn)

The exported JSON names the learning account, region and partition as `${AWS::AccountId}`, `${AWS::Region}`
and `${AWS::Partition}`: here they become the stack's own (`Aws.ACCOUNT_ID`, ...), so a policy learned in a
sandbox deploys in any account. The statements become customer-managed policies, as many as IAM's size limit
(6,144 characters without white space, in any account and region) needs, attached to the role.
Learn with the `CsmMonitoring` Aspect (stacks/csm_aspect.py), export, commit, deploy.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_lambda as lambda_
from constructs import Construct

MANAGED_POLICY_MAX_CHARS = 6_144
_TOKENS = {
    "${AWS::AccountId}": cdk.Aws.ACCOUNT_ID,
    "${AWS::Region}": cdk.Aws.REGION,
    "${AWS::Partition}": cdk.Aws.PARTITION,
}
_LONGEST = {"${AWS::AccountId}": "0" * 12, "${AWS::Region}": "x" * 20, "${AWS::Partition}": "x" * 12}


class LearnedPolicy(Construct):
    """Customer-managed policies with the statements of an exported policy file, attached to `role` or to
    `function`'s role. `policies` holds them, in order."""

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        policy_file: str | Path,
        role: iam.IRole | None = None,
        function: lambda_.IFunction | None = None,
    ) -> None:
        super().__init__(scope, construct_id)
        target = role or (function.role if function is not None else None)
        if target is None:
            raise ValueError("LearnedPolicy needs a role, or a function that has one")
        document = json.loads(Path(policy_file).read_text())
        statements = document["Statement"]
        statements = [statements] if isinstance(statements, dict) else statements
        self.policies = [
            iam.ManagedPolicy(
                self,
                f"Part{index}",
                statements=[iam.PolicyStatement.from_json(_tokenized(s)) for s in part],
                roles=[target],
            )
            for index, part in enumerate(split_statements(statements), start=1)
        ]


def split_statements(statements: list[dict[str, Any]], max_chars: int = MANAGED_POLICY_MAX_CHARS) -> list[list[Any]]:
    """The statements in parts each under `max_chars` whatever the tokens become; a statement too large
    for one part is split by its actions (same Sid, order kept), as csm-collector splits its policies."""
    if _size(statements) <= max_chars:
        return [statements]
    parts: list[list[dict[str, Any]]] = []
    current: list[dict[str, Any]] = []
    for statement in statements:
        actions = statement.get("Action")
        units = [[a] for a in actions] if isinstance(actions, list) else [None]  # None: the statement whole
        continuing = False  # whether current[-1] holds actions of this statement
        for unit in units:
            piece = statement if unit is None else {**statement, "Action": unit}
            if continuing and unit is not None:
                candidate = [*current[:-1], {**current[-1], "Action": [*current[-1]["Action"], *unit]}]
            else:
                candidate = [*current, piece]
            if current and _size(candidate) > max_chars:
                parts.append(current)
                candidate = [piece]
            current, continuing = candidate, True
    return [*parts, current]


def _size(statements: list[dict[str, Any]]) -> int:
    text = json.dumps({"Version": "2012-10-17", "Statement": statements}, separators=(",", ":"))
    for placeholder, longest in _LONGEST.items():
        text = text.replace(placeholder, longest)
    return len(text)


def _tokenized(value: Any) -> Any:
    """Every `${AWS::...}` pseudo parameter of the exported file as the stack's token."""
    if isinstance(value, str):
        for placeholder, token in _TOKENS.items():
            value = token.join(value.split(placeholder)) if placeholder in value else value
        return value
    if isinstance(value, dict):
        return {key: _tokenized(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_tokenized(item) for item in value]
    return value
