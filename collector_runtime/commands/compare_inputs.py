"""Where `compare` gets its inputs: the observed policy (output directory, file, S3 object, SSM
parameter) and the granted policies (a role's inline and attached managed policies, a Lambda
function's role, or policy files). AWS clients are passed in."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..contract import POLICIES_DIR
from ..core.compare import GrantedPolicy
from ..core.names import workload_file_stem


class SourceError(RuntimeError):
    """An input that cannot be read; the message says which and why."""


def load_json_file(path: Path) -> dict[str, Any]:
    try:
        document = json.loads(path.read_text())
    except (OSError, ValueError) as error:
        raise SourceError(f"cannot read a policy from {path}: {error}") from error
    if not isinstance(document, dict):
        raise SourceError(f"{path} does not hold a policy document")
    return document


def observed_from_output(output_dir: Path, workload: str) -> dict[str, Any]:
    return load_json_file(output_dir / POLICIES_DIR / f"{workload_file_stem(workload)}.json")


def read_s3_json(s3: Any, uri: str) -> dict[str, Any]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc:
        raise SourceError(f"{uri!r} is not an s3://bucket/key URI")
    body = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read()
    return dict(json.loads(body))


def observed_from_ssm(ssm: Any, s3: Any, name: str) -> dict[str, Any]:
    """A parameter holds the policy, or (past SSM's 8 KB) the S3 URI of it."""
    value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    return read_s3_json(s3, value) if value.startswith("s3://") else dict(json.loads(value))


def role_name_of_function(lambda_client: Any, function: str) -> str:
    arn = lambda_client.get_function_configuration(FunctionName=function)["Role"]
    return str(arn.rsplit("/", 1)[-1])


def granted_by_role(iam: Any, role: str) -> tuple[list[GrantedPolicy], list[str]]:
    """The role's inline and attached managed policies, and notes on what is not evaluated."""
    policies: list[GrantedPolicy] = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        for name in page["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            policies.append(GrantedPolicy(f"inline:{name}", _document(document)))
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        for attached in page["AttachedPolicies"]:
            arn = attached["PolicyArn"]
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
            policies.append(GrantedPolicy(f"managed:{arn}", _document(document)))
    notes = []
    boundary = iam.get_role(RoleName=role)["Role"].get("PermissionsBoundary")
    if boundary:
        notes.append(f"the permissions boundary {boundary['PermissionsBoundaryArn']} is not evaluated")
    return policies, notes


def _document(document: Any) -> dict[str, Any]:
    """boto3 decodes IAM policy documents; some SDK paths leave them URL-encoded JSON strings."""
    if isinstance(document, str):
        return dict(json.loads(unquote(document)))
    return dict(document)
