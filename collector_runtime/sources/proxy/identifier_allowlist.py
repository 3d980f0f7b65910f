"""Which request values may leave the proxy: an explicit allow-list of identifier-like members. Pure.

A string member's value is kept (as an identifier that can fill an ARN) only if it passes BOTH:

1. it identifies a resource, by one of
   - location: it is a URI label (`/{Bucket}/{Key+}`, `/functions/{FunctionName}`);
   - value: it is an ARN (`arn:aws:...`);
   - name: it is one of `IDENTIFIER_NAMES`, or it ends in a word of `IDENTIFIER_SUFFIXES` (`TableName`,
     `roleArn`, `KmsKeyId`, `QueueUrl`, `ClusterIdentifier`, ...);
2. nothing marks it as a secret:
   - botocore's model marks its shape `sensitive` (SecretString, SSM PutParameter's Value, passwords, ...);
   - its name is in `NEVER_KEPT_NAMES` (ExternalId, AccessKeyId, personal names) or contains a word of
     `_SECRET_WORDS` (token, password, secret other than SecretId/SecretArn/SecretName, credential, signature,
     access key);
   - its value looks like an access key id, carries a signature or token (a presigned URL), or is longer
     than `MAX_IDENTIFIER` characters.

Everything else (bodies, messages, documents, policies, free text, numbers, structures) never leaves; only
the names of the top-level members the request set do, and the IAM role ARNs a JSON body passes inside its
structures (`bodies.json_passed_roles`: what iam:PassRole is authorized on).
"""

from __future__ import annotations

import re
from typing import Any

from collector_runtime.core.arns import starts_like_arn

MAX_IDENTIFIER = 2_048

IDENTIFIER_NAMES = frozenset(
    {
        "Bucket",  # S3
        "Key",  # S3 object key (policies scope by key prefix)
        "Prefix",  # S3 list prefix (the s3:prefix condition)
        "CopySource",  # S3 "bucket/key" read by CopyObject / UploadPartCopy
        "Role",  # Lambda CreateFunction: the role to pass
        "Namespace",  # CloudWatch PutMetricData (the cloudwatch:namespace condition)
        "cluster",  # ECS members that hold a name or an ARN
        "service",
        "taskDefinition",
        "family",
        "Qualifier",  # Lambda: a function's version or alias (the call is authorized on function:NAME:QUALIFIER)
        "ResourceType",  # SSM tag operations: the type of the resource `ResourceId` names (`Parameter`)
        "Rule",  # EventBridge PutTargets, RemoveTargets, ListTargetsByRule: the rule's name
        "WorkGroup",  # Athena: the work group's name
    }
)
# Camel-case words a member name may end with: "roleArn" ends with "Arn", "TopicARN" with "ARN".
IDENTIFIER_SUFFIXES = ("Name", "Arn", "ARN", "Id", "ID", "Identifier", "Url", "URL")

# Never kept although rule 1 would: quasi-secrets and personal names.
NEVER_KEPT_NAMES = frozenset(
    {"ExternalId", "AccessKeyId", "SecretAccessKey", "SessionToken", "SecretKey"}
    | {"FirstName", "LastName", "GivenName", "FamilyName", "MiddleName", "Surname"}
)
_SECRET_WORDS = re.compile(
    r"token|password|passphrase|secret(?!id|arn|name)|credential|signature|privatekey|accesskey", re.IGNORECASE
)
_ACCESS_KEY_ID = re.compile(r"(?:AKIA|ASIA)[A-Z2-7]{16}")
_SIGNED_VALUE = re.compile(r"x-amz-signature|x-amz-security-token|x-amz-credential|signature=", re.IGNORECASE)


def identifiers_of(operation: Any, values: dict[str, str], uri_members: frozenset[str]) -> dict[str, str]:
    """The identifier values among a request's string members (see the module docstring for the rule)."""
    shape = operation.input_shape
    if shape is None:
        return {}
    return {
        name: value
        for name, value in values.items()
        if name in shape.members
        and is_identifier(name, value, from_uri=name in uri_members)
        and not is_secret(name, value, sensitive=is_sensitive(shape.members[name]))
    }


def listed_identifiers_of(operation: Any, lists: dict[str, tuple[str, ...]]) -> dict[str, tuple[str, ...]]:
    """The identifier values of a request's list-of-string members, by the same rules, each, under the name
    of one element: `InstanceIds` -> {"InstanceId": (...)}."""
    shape = operation.input_shape
    found = {}
    for name, items in lists.items():
        member = shape.members.get(name) if shape is not None else None
        if member is None:
            continue
        element, sensitive = element_name(name, member), is_sensitive(member)
        if element is None:
            continue
        kept = tuple(
            item for item in items if is_identifier(element, item) and not is_secret(element, item, sensitive=sensitive)
        )
        if kept:
            found[element] = kept
    return found


def element_name(name: str, member: Any) -> str | None:
    """What one element of a list member is called: `InstanceIds` holds `InstanceId`s; where the singular
    says nothing, botocore's element shape does (EC2's `Groups` holds `SecurityGroupId`s). A map's keys are
    read only when its key shape is ARN-typed (DynamoDB's `RequestItems` by `TableArn`: a table's name or
    ARN), never attribute names; a structure's member names never (None)."""
    if member.type_name == "map":
        key = member.key.name
        return key if key.endswith(("Arn", "ARN")) else None
    if member.type_name != "list":
        return None
    singular = name.removesuffix("s")
    if is_identifier(singular, ""):
        return singular
    shape_name = member.member.name
    return shape_name if is_identifier(shape_name, "") else singular


def response_identifiers(operation: Any, values: dict[str, str]) -> dict[str, str]:
    """The identifiers among a successful response's top-level string members, by the operation's output
    shape: ARN values of members it declares in the body (none when a payload, such as Lambda Invoke's
    function result, is the body), never a secret by the same rules as a request's."""
    shape = operation.output_shape
    if shape is None or shape.serialization.get("payload") is not None:
        return {}
    found = {}
    for name, value in values.items():
        member = shape.members.get(name)
        if member is None or member.serialization.get("location") or member.type_name != "string":
            continue
        if (
            starts_like_arn(value)
            and is_identifier(name, value)
            and not is_secret(name, value, sensitive=is_sensitive(member))
        ):
            found[name] = value
    return found


def is_identifier(name: str, value: str, *, from_uri: bool = False) -> bool:
    """Rule 1: the member names a resource (by location, ARN value, or name)."""
    return from_uri or bool(starts_like_arn(value)) or name in IDENTIFIER_NAMES or _has_identifier_suffix(name)


def is_secret(name: str, value: str, *, sensitive: bool = False) -> bool:
    """Rule 2: the model, the name or the value says this may be a secret."""
    return (
        sensitive
        or name in NEVER_KEPT_NAMES
        or bool(_SECRET_WORDS.search(name))
        or len(value) > MAX_IDENTIFIER
        or bool(_ACCESS_KEY_ID.search(value))
        or bool(_SIGNED_VALUE.search(value))
    )


def is_sensitive(shape: Any) -> bool:
    """botocore's `sensitive` trait, on the shape or on any shape inside it (a list of sensitive strings)."""
    if shape.metadata.get("sensitive"):
        return True
    if shape.type_name == "list":
        return bool(shape.member.metadata.get("sensitive"))
    return False


def _has_identifier_suffix(name: str) -> bool:
    for suffix in IDENTIFIER_SUFFIXES:
        if name == suffix or name.lower() == suffix.lower():
            return True
        if name.endswith(suffix) and len(name) > len(suffix):
            return True
    return False
