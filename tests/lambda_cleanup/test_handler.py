"""The teardown custom resource's handler: against moto's SSM, with the stack's status faked, and answering
a local server that stands in for CloudFormation's presigned response URL."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import Any

import boto3
import pytest
from moto import mock_aws

from lambda_cleanup.handler import PHYSICAL_ID, handle, on_event, respond

PATH = "/csm-collector/policies"
STACK_ID = "arn:aws:cloudformation:us-east-1:123456789012:stack/CsmCollectorStorage/0f1e2d3c"


class Stacks:
    """A CloudFormation client that knows one stack in one status."""

    def __init__(self, status: str) -> None:
        self.status = status

    def describe_stacks(self, StackName: str) -> dict[str, Any]:
        assert StackName == STACK_ID
        return {"Stacks": [{"StackId": STACK_ID, "StackStatus": self.status}]}


def event(request_type: str, **extra: Any) -> dict[str, Any]:
    return {
        "RequestType": request_type,
        "StackId": STACK_ID,
        "RequestId": "request-1",
        "LogicalResourceId": "RuntimeParameters",
        "ResponseURL": "https://cloudformation-custom-resource-response.invalid/",
        "ResourceProperties": {"ServiceToken": "arn:aws:lambda:...", "Path": PATH},
        **extra,
    }


@pytest.fixture
def ssm(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """moto's SSM with 23 runtime parameters under the path (one Advanced) and two the stacks own elsewhere."""
    for name in ("AWS_PROFILE", "AWS_CONFIG_FILE", "AWS_CSM_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        client = boto3.client("ssm", region_name="us-east-1")
        for number in range(22):
            client.put_parameter(Name=f"{PATH}/workload-{number}", Value="{}", Type="String")
        client.put_parameter(Name=f"{PATH}/big", Value="x" * 5000, Type="String", Tier="Advanced")
        client.put_parameter(Name="/csm-collector/collector/address", Value="10.42.2.10", Type="String")
        client.put_parameter(Name="/csm-collector/policies-elsewhere", Value="{}", Type="String")
        yield client


def names(ssm: Any) -> set[str]:
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path="/", Recursive=True)
    return {parameter["Name"] for page in pages for parameter in page["Parameters"]}


def test_deleting_the_stack_deletes_every_parameter_under_the_path_and_nothing_else(ssm: Any) -> None:
    reason = on_event(event("Delete", PhysicalResourceId=PHYSICAL_ID), ssm, Stacks("DELETE_IN_PROGRESS"))
    assert reason == f"deleted 23 parameters under {PATH}"
    assert names(ssm) == {"/csm-collector/collector/address", "/csm-collector/policies-elsewhere"}


@pytest.mark.parametrize("status", ["UPDATE_ROLLBACK_IN_PROGRESS", "UPDATE_COMPLETE_CLEANUP_IN_PROGRESS"])
def test_a_delete_outside_a_stack_deletion_keeps_the_live_parameters(ssm: Any, status: str) -> None:
    """An update that added the resource and rolled back, or one that removed it, deletes nothing."""
    reason = on_event(event("Delete", PhysicalResourceId=PHYSICAL_ID), ssm, Stacks(status))
    assert reason == f"the stack is not being deleted ({status}): the parameters under {PATH} are kept"
    assert len(names(ssm)) == 25


@pytest.mark.parametrize("request_type", ["Create", "Update"])
def test_create_and_update_change_nothing(ssm: Any, request_type: str) -> None:
    assert (
        on_event(event(request_type), ssm, Stacks("DELETE_IN_PROGRESS")) == "nothing to do until the stack is deleted"
    )
    assert len(names(ssm)) == 25


def test_a_failure_is_answered_as_failed_with_the_reason(ssm: Any) -> None:
    replies: list[tuple[str, str]] = []

    class Broken:
        def describe_stacks(self, StackName: str) -> dict[str, Any]:
            raise PermissionError("not authorized to perform cloudformation:DescribeStacks")

    handle(event("Delete", PhysicalResourceId=PHYSICAL_ID), ssm, Broken(), lambda *reply: replies.append(reply))
    assert replies == [("FAILED", "PermissionError: not authorized to perform cloudformation:DescribeStacks")]
    handle(event("Create"), ssm, Broken(), lambda *reply: replies.append(reply))
    assert replies[-1] == ("SUCCESS", "nothing to do until the stack is deleted")


def test_the_answer_is_put_to_the_presigned_url_without_a_content_type() -> None:
    received: list[dict[str, Any]] = []

    class Recorder(BaseHTTPRequestHandler):
        def do_PUT(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            received.append({"path": self.path, "content_type": self.headers.get("Content-Type"), "body": body})
            self.send_response(200)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            return

    server = HTTPServer(("127.0.0.1", 0), Recorder)
    threading.Thread(target=server.handle_request, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/response?X-Amz-Signature=abc"
    respond(event("Create", ResponseURL=url), "SUCCESS", "nothing to do")
    server.server_close()
    (answer,) = received
    assert answer["path"] == "/response?X-Amz-Signature=abc"
    assert answer["content_type"] in (None, "")
    assert answer["body"] == {
        "Status": "SUCCESS",
        "Reason": "nothing to do",
        "PhysicalResourceId": PHYSICAL_ID,
        "StackId": STACK_ID,
        "RequestId": "request-1",
        "LogicalResourceId": "RuntimeParameters",
    }
