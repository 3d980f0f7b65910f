"""CloudFormation custom resource: when the storage stack is deleted, delete the SSM parameters the collector
created at run time under one path (`<ssmPrefix>/policies`), which CloudFormation does not know about.

Create and Update do nothing. Delete deletes only while the stack itself is being deleted: CloudFormation
also sends Delete when an update that added this resource rolls back, and live parameters must survive that.
The function answers CloudFormation itself (a PUT to the presigned response URL): no provider framework.
"""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Callable, Iterator
from typing import Any

PHYSICAL_ID = "csm-collector-runtime-parameters"
DELETE_BATCH = 10  # the most DeleteParameters takes at once
STACK_BEING_DELETED = "DELETE_IN_PROGRESS"
Reply = Callable[[str, str], None]


def parameter_names(ssm: Any, path: str) -> Iterator[str]:
    for page in ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True):
        for parameter in page["Parameters"]:
            yield parameter["Name"]


def delete_parameters_under(ssm: Any, path: str) -> int:
    """Delete every parameter under `path` (recursively); returns how many were deleted."""
    names = list(parameter_names(ssm, path))
    for start in range(0, len(names), DELETE_BATCH):
        ssm.delete_parameters(Names=names[start : start + DELETE_BATCH])
    return len(names)


def stack_status(cloudformation: Any, stack_id: str) -> str:
    (stack,) = cloudformation.describe_stacks(StackName=stack_id)["Stacks"]
    return str(stack["StackStatus"])


def on_event(event: dict[str, Any], ssm: Any, cloudformation: Any) -> str:
    """What this request does; returns the reason CloudFormation shows. Raises on failure."""
    if event["RequestType"] != "Delete":
        return "nothing to do until the stack is deleted"
    path = event["ResourceProperties"]["Path"]
    status = stack_status(cloudformation, event["StackId"])
    if status != STACK_BEING_DELETED:
        return f"the stack is not being deleted ({status}): the parameters under {path} are kept"
    return f"deleted {delete_parameters_under(ssm, path)} parameters under {path}"


def respond(event: dict[str, Any], status: str, reason: str) -> None:
    """The custom resource's answer, PUT to the presigned URL (signed without a Content-Type)."""
    body = {
        "Status": status,
        "Reason": reason[:1000],
        "PhysicalResourceId": event.get("PhysicalResourceId", PHYSICAL_ID),
        "StackId": event["StackId"],
        "RequestId": event["RequestId"],
        "LogicalResourceId": event["LogicalResourceId"],
    }
    request = urllib.request.Request(
        event["ResponseURL"], data=json.dumps(body).encode(), method="PUT", headers={"Content-Type": ""}
    )
    with urllib.request.urlopen(request, timeout=30):
        pass


def handle(event: dict[str, Any], ssm: Any, cloudformation: Any, reply: Reply) -> None:
    """Always answers, so a failure fails the stack operation with its reason instead of hanging it for an hour."""
    try:
        status, reason = "SUCCESS", on_event(event, ssm, cloudformation)
    except Exception as error:  # any failure is the answer
        status, reason = "FAILED", f"{type(error).__name__}: {error}"
    print(json.dumps({"RequestType": event.get("RequestType"), "Status": status, "Reason": reason}))
    reply(status, reason)


def handler(event: dict[str, Any], context: Any) -> None:
    import boto3
    from botocore.config import Config

    config = Config(retries={"mode": "standard", "max_attempts": 10})
    handle(
        event,
        boto3.client("ssm", config=config),
        boto3.client("cloudformation", config=config),
        lambda status, reason: respond(event, status, reason),
    )
