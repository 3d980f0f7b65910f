"""Real requests for the proxy matcher's tests: what botocore clients put on the wire, captured before sending.

A `before-send` handler (it runs after serialisation, endpoint resolution and SigV4 signing) turns each
prepared request into an `HttpRequest` and aborts the call, so no network is touched. `minimal_input`
fills an operation's required members by type, for the sweep over every operation.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any
from urllib.parse import urlsplit

import botocore.session
from botocore.awsrequest import AWSResponse
from botocore.config import Config

from collector_runtime.sources.proxy.request import HttpRequest, http_request
from tests.oracle import Request, assert_policy_allows, assert_policy_denies

# A current-format access key id encoding account 609629065308 (see csm-protocol.md); fake secret.
ACCESS_KEY_ID = "ASIAY34FZKBOKMUTVV7A"
ACCOUNT = "609629065308"
SECRET_ACCESS_KEY = "fake-secret-access-key-never-in-output"
SESSION_TOKEN = "fake-session-token-never-in-output"


class Captured(Exception):
    def __init__(self, request: HttpRequest) -> None:
        super().__init__("captured")
        self.request = request


_REQUESTED: ContextVar[str] = ContextVar("requested_operation", default="")


class _RawBody:
    def __init__(self, data: bytes) -> None:
        self._data = data

    def stream(self, **_: Any) -> Iterator[bytes]:
        yield self._data


def _discovered_endpoint(request: Any) -> AWSResponse | None:
    """Answer endpoint discovery (Timestream: DescribeEndpoints before every call) with a cell endpoint."""
    target = request.headers.get("X-Amz-Target", b"")
    target = target.decode() if isinstance(target, bytes) else str(target)
    if not target.endswith(".DescribeEndpoints") or _REQUESTED.get() == "DescribeEndpoints":
        return None
    host = urlsplit(request.url).netloc
    cell = host.replace("query.", "query-cell1.", 1).replace("ingest.", "ingest-cell1.", 1)
    body = json.dumps({"Endpoints": [{"Address": cell, "CachePeriodInMinutes": 60}]}).encode()
    return AWSResponse(request.url, 200, {"Content-Type": "application/x-amz-json-1.0"}, _RawBody(body))


def _capture(request: Any, **_: Any) -> AWSResponse | None:
    discovered = _discovered_endpoint(request)
    if discovered is not None:
        return discovered
    url = urlsplit(request.url)
    body = request.body
    if hasattr(body, "read"):
        body = body.read()
    if isinstance(body, str):
        body = body.encode()
    headers = {k: v.decode() if isinstance(v, bytes) else str(v) for k, v in request.headers.items()}
    raise Captured(http_request(request.method, url.netloc, url.path, url.query, headers=headers, body=body or b""))


def new_session() -> Any:
    session = botocore.session.get_session()
    session.set_credentials(ACCESS_KEY_ID, SECRET_ACCESS_KEY, SESSION_TOKEN)
    return session


@contextmanager
def capturing_client(session: Any, service: str, region: str = "eu-west-1") -> Iterator[Any]:
    """A real client whose every call raises `Captured` with the request it would have sent."""
    config = Config(parameter_validation=False, retries={"max_attempts": 1})
    client = session.create_client(service, region_name=region, config=config)
    client.meta.events.register_first("before-send", _capture)
    try:
        yield client
    finally:
        client.close()


def request_of(client: Any, operation: str, params: dict[str, Any]) -> HttpRequest:
    """The request `client` sends for `operation(**params)` (by model name, e.g. "PutObject")."""
    token = _REQUESTED.set(operation)
    try:
        client._make_api_call(operation, params)
    except Captured as captured:
        return captured.request
    finally:
        _REQUESTED.reset(token)
    raise AssertionError(f"{operation} sent nothing")


def minimal_input(shape: Any, arn_service: str = "svc", depth: int = 0) -> Any:
    """A value for `shape` with every required member filled: strings named after their member, ARNs (for
    members named *Arn) of `arn_service` (endpoint rules check some, e.g. Kinesis StreamARN)."""
    filler = _FILLERS.get(shape.type_name)
    if filler is not None:
        return filler(shape)
    if shape.type_name == "structure":
        return _structure(shape, arn_service, depth)
    if shape.type_name == "list":
        return [minimal_input(shape.member, arn_service, depth + 1)] if depth < 4 else []
    if shape.type_name == "map":
        return {"k": minimal_input(shape.value, arn_service, depth + 1)} if depth < 4 else {}
    return None


def _structure(shape: Any, arn_service: str, depth: int) -> dict[str, Any]:
    if shape.metadata.get("document"):
        return {}
    names = list(shape.required_members)
    if shape.metadata.get("union") and shape.members:
        names = names or [next(iter(shape.members))]
    if depth >= 4:
        return {}
    members = shape.members
    return {name: _member_value(name, members[name], arn_service, depth) for name in names if name in members}


def _member_value(name: str, shape: Any, arn_service: str, depth: int) -> Any:
    if shape.type_name == "string" and not shape.metadata.get("enum"):
        return arn_for(name, arn_service) if name.endswith(("Arn", "ARN")) else string_for(name)
    return minimal_input(shape, arn_service, depth + 1)


def string_for(name: str) -> str:
    """A distinctive, host-label-safe value for a member (bucket names and host prefixes accept it)."""
    cleaned = "".join(ch for ch in name.lower() if ch.isalnum())
    return f"{cleaned[:40] or 'value'}-1"


def arn_for(name: str, service: str = "svc") -> str:
    """A well-formed ARN of `service` for a member: "StreamARN" -> "arn:aws:kinesis:...:stream/streamarn-1"."""
    resource_type = name.removesuffix("Arn").removesuffix("ARN").lower() or "resource"
    return f"arn:aws:{service}:eu-west-1:123456789012:{resource_type}/{string_for(name)}"


def _string(shape: Any) -> str:
    enum = shape.metadata.get("enum")
    return str(enum[0]) if enum else string_for(shape.name)


_FILLERS: dict[str, Any] = {
    "string": _string,
    "integer": lambda shape: max(1, int(shape.metadata.get("min", 1))),
    "long": lambda shape: max(1, int(shape.metadata.get("min", 1))),
    "float": lambda _: 1.0,
    "double": lambda _: 1.0,
    "boolean": lambda _: True,
    "blob": lambda _: b"blob",
    "timestamp": lambda _: dt.datetime(2026, 1, 1, tzinfo=dt.UTC),
}


LAYER = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:layer:deps:3"


def inline_deployment(package: bytes) -> dict[str, Any]:
    """Lambda CreateFunction's input with the deployment package in the request, `Code` first (as the Go SDK
    writes it: Terraform's `aws_lambda_function` with `filename`), then what names the function, its role, a
    layer and tags."""
    return {
        "Code": {"ZipFile": package},
        "FunctionName": "worker",
        "Role": f"arn:aws:iam::{ACCOUNT}:role/worker-exec",
        "Runtime": "python3.12",
        "Handler": "app.handler",
        "Layers": [LAYER],
        "Tags": {"team": "data"},
    }


def assert_the_deployment_is_granted(policy: dict[str, Any]) -> None:
    """`inline_deployment`'s call is allowed whole (its function, tags, layer, role) and nothing beside it."""
    function, role = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:", f"arn:aws:iam::{ACCOUNT}:role/"
    context = {"iam:PassedToService": "lambda.amazonaws.com"}
    assert_policy_allows(
        policy,
        [
            Request("lambda:CreateFunction", function + "worker", ACCOUNT),
            Request("lambda:TagResource", function + "worker", ACCOUNT),
            Request("lambda:GetLayerVersion", LAYER, ACCOUNT),
            Request("iam:PassRole", role + "worker-exec", ACCOUNT, context=context),
        ],
    )
    assert_policy_denies(
        policy,
        [
            Request("lambda:CreateFunction", function + "other", ACCOUNT),
            Request("iam:PassRole", role + "admin", ACCOUNT, context=context),
        ],
    )
