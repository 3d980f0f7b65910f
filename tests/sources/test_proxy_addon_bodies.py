"""The adapter's side of a streamed body (over `STREAM_LARGE_BODIES`, which mitmproxy passes on in chunks
without keeping): read as it passes, every chunk passed on untouched, whatever the reading does."""

from __future__ import annotations

import json
import tracemalloc
import zlib
from typing import Any

import pytest
from mitmproxy.test.tflow import tflow
from mitmproxy.test.tutils import tresp

from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.records import ObservedCall
from collector_runtime.sources.proxy import body_skeleton
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
    def fail(self: body_skeleton.JsonSkeleton, chunk: bytes) -> None:
        raise MemoryError("no room")

    monkeypatch.setattr(body_skeleton.JsonSkeleton, "feed", fail)
    interceptor, _, calls, passed = _streamed(action_map, "application/json")
    assert b"".join(passed) == BODY
    assert interceptor.recorder.counters.internal_errors == 1 and len(passed) > 1
    (call,) = calls
    assert not call.request_members & {"FunctionName", "Tags"}  # recorded as cut: nothing read


def _gzip_bomb(decoded_bytes: int) -> bytes:
    """`decoded_bytes` of zeros, gzip-compressed (about a thousandth of that), never held whole."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, 31)
    zeros = bytes(1 << 20)
    return b"".join(compressor.compress(zeros) for _ in range(decoded_bytes >> 20)) + compressor.flush()


def _recorded_peak(interceptor: AwsInterceptor, flow: Any, response: Any) -> int:
    tracemalloc.start()
    try:
        interceptor._record(flow, flow.metadata[INTERCEPTED], response)
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def test_a_compressed_body_is_decoded_only_as_far_as_it_is_read(action_map: ActionMap) -> None:
    """A client's gzip body that decodes to 256 MiB (a compression bomb) was decoded whole by mitmproxy's
    `get_content`; it is decoded no further than the proxy reads, and its call still recorded."""
    calls: list[ObservedCall] = []
    interceptor = AwsInterceptor(CallRecorder(ServiceModels(), action_map), HostMatcher(), calls.extend)
    flow = tflow()
    request = flow.request
    request.method, request.host, request.port, request.path = "POST", "dynamodb.eu-west-1.amazonaws.com", 443, "/"
    request.headers.clear()
    request.headers.update({"content-type": "application/x-amz-json-1.0", "content-encoding": "gzip"})
    request.headers["x-amz-target"] = "DynamoDB_20120810.PutItem"
    request.raw_content = _gzip_bomb(256 << 20)
    interceptor.requestheaders(flow)
    peak = _recorded_peak(interceptor, flow, read_response(200, {}, b""))
    assert peak < 32 << 20, f"{peak >> 20} MiB held"
    (call,) = calls
    assert call.operation == "PutItem"


def test_a_compressed_response_is_decoded_only_as_far_as_it_is_read(action_map: ActionMap) -> None:
    calls: list[ObservedCall] = []
    interceptor = AwsInterceptor(CallRecorder(ServiceModels(), action_map), HostMatcher(), calls.extend)
    flow = tflow()
    flow.request.method, flow.request.host, flow.request.port = "POST", "dynamodb.eu-west-1.amazonaws.com", 443
    flow.request.headers["x-amz-target"] = "DynamoDB_20120810.ListTables"
    interceptor.requestheaders(flow)
    flow.response = tresp()
    flow.response.status_code = 400
    flow.response.headers.clear()
    flow.response.headers.update({"content-type": "application/x-amz-json-1.0", "content-encoding": "gzip"})
    flow.response.raw_content = _gzip_bomb(192 << 20)
    tracemalloc.start()
    try:
        interceptor._record_response(flow, flow.metadata[INTERCEPTED])
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 32 << 20, f"{peak >> 20} MiB held"
    (call,) = calls
    assert call.operation == "ListTables" and call.outcome == "failed"
