"""The adapter's side of a streamed body (over `STREAM_LARGE_BODIES`, which mitmproxy passes on in chunks
without keeping): read as it passes, every chunk passed on untouched, whatever the reading does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from mitmproxy.test.tflow import tflow

from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.records import ObservedCall
from collector_runtime.sources.proxy import json_skeleton
from collector_runtime.sources.proxy.addon import INTERCEPTED, AwsInterceptor
from collector_runtime.sources.proxy.calls import CallRecorder
from collector_runtime.sources.proxy.hosts import HostMatcher
from collector_runtime.sources.proxy.responses import read_response
from collector_runtime.sources.proxy.service_models import ServiceModels

BODY = json.dumps({"Code": {"ZipFile": "UEsDB" * 200_000}, "FunctionName": "worker", "Tags": {"a": "b"}}).encode()


def _streamed(action_map: ActionMap, content_type: str) -> tuple[AwsInterceptor, Any, list[ObservedCall], list[bytes]]:
    """A CreateFunction whose body mitmproxy streams: `requestheaders`, then each chunk through the stream
    callback the interceptor set, then the record of its call."""
    calls: list[ObservedCall] = []
    interceptor = AwsInterceptor(CallRecorder(ServiceModels(), action_map), HostMatcher(), calls.extend)
    flow = tflow()
    request = flow.request
    request.method, request.host, request.port, request.path = (
        "POST",
        "lambda.eu-west-1.amazonaws.com",
        443,
        "/2015-03-31/functions",
    )
    request.headers.clear()
    request.headers["content-type"] = content_type
    request.stream = True  # what mitmproxy sets before the hook for a body over STREAM_LARGE_BODIES
    interceptor.requestheaders(flow)
    passed = [
        request.stream(BODY[i : i + 65_536]) if callable(request.stream) else BODY[i : i + 65_536]
        for i in range(0, len(BODY), 65_536)
    ]
    request.data.content = None  # streamed: not kept
    interceptor._record(flow, flow.metadata[INTERCEPTED], read_response(201, {}, b""))
    return interceptor, flow, calls, passed


def test_a_streamed_json_body_is_read_as_it_passes(action_map: ActionMap) -> None:
    _, _, calls, passed = _streamed(action_map, "application/json")
    assert b"".join(passed) == BODY
    (call,) = calls
    assert call.operation == "CreateFunction" and {"FunctionName", "Tags", "Code"} <= call.request_members
    assert any(resource.endswith(":function:worker") for resource in call.resources)


def test_a_streamed_body_of_another_type_is_recorded_as_cut_not_empty(action_map: ActionMap) -> None:
    _, _, calls, passed = _streamed(action_map, "application/octet-stream")
    assert b"".join(passed) == BODY
    (call,) = calls
    assert call.operation == "CreateFunction" and not call.request_members & {"FunctionName", "Tags"}


def test_a_reading_that_fails_passes_every_chunk_on_and_is_counted(
    action_map: ActionMap, monkeypatch: pytest.MonkeyPatch
) -> None:
    def fail(self: json_skeleton.JsonSkeleton, chunk: bytes) -> None:
        raise MemoryError("no room")

    monkeypatch.setattr(json_skeleton.JsonSkeleton, "feed", fail)
    interceptor, _, calls, passed = _streamed(action_map, "application/json")
    assert b"".join(passed) == BODY
    assert interceptor.recorder.counters.internal_errors == 1 and len(passed) > 1
    (call,) = calls
    assert not call.request_members & {"FunctionName", "Tags"}  # recorded as cut: nothing read
