"""Where `compare` gets its inputs: the observed policy (output directory, file, S3 object, SSM
parameter) and the granted policies (a role's inline and attached managed policies, a Lambda
function's role, or policy files). AWS clients are passed in; an AWS error becomes a command error
naming what it was about (`aws.calling`), an input that is no policy document is bad input."""

from __future__ import annotations

from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlparse

from ..aws import calling
from ..contract import POLICIES_DIR
from ..core.compare import GrantedPolicy
from ..core.names import workload_file_stem
from ..core.policy_document import policy_problem
from ..errors import BadInput
from ..input_files import json_document, read_limited
from ..limits import MAX_JSON_FILE_BYTES


class SourceError(BadInput):
    """An input that cannot be read or is no IAM policy document (exit 2); the message says which and why."""


def policy_document(text: str | bytes, where: str) -> dict[str, Any]:
    """The IAM policy document in `text`; SourceError (naming `where`) if it is none."""
    try:
        document = json_document(text, where)  # bounded: size and nesting
    except BadInput as error:
        raise SourceError(str(error)) from error
    problem = policy_problem(document)
    if problem:
        raise SourceError(f"{where} is not an IAM policy document: {problem}")
    return dict(document)


def load_json_file(path: Path) -> dict[str, Any]:
    try:
        text = read_limited(path)
    except OSError as error:
        raise SourceError(f"cannot read a policy from {path}: {getattr(error, 'strerror', None) or error}") from error
    return policy_document(text, str(path))


def observed_from_output(output_dir: Path, workload: str) -> dict[str, Any]:
    return load_json_file(output_dir / POLICIES_DIR / f"{workload_file_stem(workload)}.json")


def read_s3_json(s3: Any, uri: str) -> dict[str, Any]:
    parsed = urlparse(uri)
    if parsed.scheme != "s3" or not parsed.netloc or not parsed.path.lstrip("/"):
        raise SourceError(f"{uri!r} is not an s3://bucket/key URI")
    with calling(f"S3 object {uri}"):
        body = s3.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"].read(MAX_JSON_FILE_BYTES + 1)
    return policy_document(body, uri)


def observed_from_ssm(ssm: Any, s3: Any, name: str) -> dict[str, Any]:
    """A parameter holds the policy, or (past SSM's 8 KB) the S3 URI of it."""
    with calling(f"SSM parameter {name}"):
        value = ssm.get_parameter(Name=name)["Parameter"]["Value"]
    return read_s3_json(s3, value) if value.startswith("s3://") else policy_document(value, f"SSM parameter {name}")


def role_name_of_function(lambda_client: Any, function: str) -> str:
    with calling(f"Lambda function {function!r}"):
        arn = lambda_client.get_function_configuration(FunctionName=function)["Role"]
    return str(arn.rsplit("/", 1)[-1])


def granted_by_role(iam: Any, role: str) -> tuple[list[GrantedPolicy], list[str]]:
    """The role's inline and attached managed policies, and notes on what is not evaluated."""
    with calling(f"IAM role {role!r}"):
        boundary = iam.get_role(RoleName=role)["Role"].get("PermissionsBoundary")  # first: a missing role is named
        policies = _inline_policies(iam, role) + _managed_policies(iam, role)
    notes = [f"the permissions boundary {boundary['PermissionsBoundaryArn']} is not evaluated"] if boundary else []
    return policies, notes


def _inline_policies(iam: Any, role: str) -> list[GrantedPolicy]:
    policies = []
    for page in iam.get_paginator("list_role_policies").paginate(RoleName=role):
        for name in page["PolicyNames"]:
            document = iam.get_role_policy(RoleName=role, PolicyName=name)["PolicyDocument"]
            policies.append(GrantedPolicy(f"inline:{name}", _document(document, f"inline policy {name}")))
    return policies


def _managed_policies(iam: Any, role: str) -> list[GrantedPolicy]:
    policies = []
    for page in iam.get_paginator("list_attached_role_policies").paginate(RoleName=role):
        for attached in page["AttachedPolicies"]:
            arn = attached["PolicyArn"]
            version = iam.get_policy(PolicyArn=arn)["Policy"]["DefaultVersionId"]
            document = iam.get_policy_version(PolicyArn=arn, VersionId=version)["PolicyVersion"]["Document"]
            policies.append(GrantedPolicy(f"managed:{arn}", _document(document, f"managed policy {arn}")))
    return policies


def _document(document: Any, where: str) -> dict[str, Any]:
    """boto3 decodes IAM policy documents; some SDK paths leave them URL-encoded JSON strings. A role's
    policy is checked as a file is: a hostile one (a pattern over the limits) is bad input."""
    if isinstance(document, str):
        return policy_document(unquote(document), where)
    problem = policy_problem(document)
    if problem:
        raise SourceError(f"{where} is not a policy compare can evaluate: {problem}")
    return dict(document)
