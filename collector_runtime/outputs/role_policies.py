"""A role's policies in IAM: read its state (core/export/role_plan.py describes it) and carry out the
steps `apply` and `apply --restore` planned. The boto3 IAM client is passed in; AWS errors become
command errors naming what they were about."""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import unquote

from ..aws import AWS_ERRORS, calling, error_code
from ..core.export.role_plan import Step
from ..core.json_codec import dumps_bytes

POLICY_DESCRIPTION = "Least-privilege policy learned by csm-collector"


def role_arn(iam: Any, role: str) -> str:
    with calling(f"IAM role {role!r}"):
        return str(iam.get_role(RoleName=role)["Role"]["Arn"])


def managed_policy_arn(role_arn: str, name: str) -> str:
    """The ARN of the customer-managed policy `name` (path /) in the role's account and partition."""
    _, partition, _, _, account, _ = role_arn.split(":", 5)
    return f"arn:{partition}:iam::{account}:policy/{name}"


def role_state(iam: Any, role: str, managed: list[str]) -> dict[str, Any]:
    """The role's inline and attached policies, and the versions of the `managed` policies."""
    arn = role_arn(iam, role)
    with calling(f"IAM role {role!r}"):
        inline = {}
        for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
            for name in page["PolicyNames"]:
                inline[name] = _document(iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"])
        attached = [
            item["PolicyArn"]
            for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role)
            for item in page["AttachedPolicies"]
        ]
    return {"role": role, "arn": arn, "inline": inline, "attached": attached, "managed": _versions(iam, managed)}


def _versions(iam: Any, arns: list[str]) -> dict[str, Any]:
    managed: dict[str, Any] = {}
    for arn in arns:
        with calling(f"IAM policy {arn}"):
            try:
                default = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            except AWS_ERRORS as error:
                if error_code(error) == "NoSuchEntity":
                    managed[arn] = None
                    continue
                raise
            versions = {
                v["VersionId"]: _version_document(iam, arn, v["VersionId"])
                for v in iam.list_policy_versions(PolicyArn=arn)["Versions"]
            }
        managed[arn] = {"default": default, "versions": versions}
    return managed


def _version_document(iam: Any, arn: str, version: str) -> dict[str, Any]:
    return _document(iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"])


def run_steps(iam: Any, role: str, steps: list[Step], description: str = POLICY_DESCRIPTION) -> None:
    for step in steps:
        with calling(f"IAM: {step.describe()}"):
            _run(iam, role, step, description)


def _run(iam: Any, role: str, step: Step, description: str) -> None:
    arn, text = step.target, _text(step.document)
    if step.kind == "create_policy":
        iam.create_policy(PolicyName=arn.rsplit("/", 1)[-1], PolicyDocument=text, Description=description[:1000])
    elif step.kind in ("add_version", "restore_version"):
        iam.create_policy_version(PolicyArn=arn, PolicyDocument=text, SetAsDefault=step.kind == "add_version")
    elif step.kind == "set_default":
        iam.set_default_policy_version(PolicyArn=arn, VersionId=step.version)
    elif step.kind == "delete_version":
        iam.delete_policy_version(PolicyArn=arn, VersionId=step.version)
    elif step.kind == "delete_policy":
        iam.delete_policy(PolicyArn=arn)
    elif step.kind == "attach":
        iam.attach_role_policy(RoleName=role, PolicyArn=arn)
    elif step.kind == "detach":
        iam.detach_role_policy(RoleName=role, PolicyArn=arn)
    elif step.kind == "put_inline":
        iam.put_role_policy(RoleName=role, PolicyName=step.target, PolicyDocument=text)
    elif step.kind == "delete_inline":
        iam.delete_role_policy(RoleName=role, PolicyName=step.target)
    else:  # pragma: no cover - role_plan makes no other kind
        raise ValueError(f"unknown step {step.kind}")


def _text(document: dict[str, Any] | None) -> str:
    return str(dumps_bytes(document), "utf-8") if document is not None else ""


def _document(document: Any) -> dict[str, Any]:
    """boto3 decodes IAM policy documents; some SDK paths leave them URL-encoded JSON strings."""
    if isinstance(document, str):
        return dict(json.loads(unquote(document)))
    return dict(document)
