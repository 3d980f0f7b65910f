"""The OTLP/HTTP receiver over real loopback HTTP: the exporters' framings and encodings, OTLP's responses,
every refusal answered and counted, the limits, and a clean stop that loses no acknowledged span."""

from __future__ import annotations

import gzip
import http.client
import io
import json
import re
import socket
import threading
import time
from email.message import Message
from typing import Any

import pytest
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from collector_runtime.core.records import OTLP
from collector_runtime.sources.otlp import calls as calls_module
from collector_runtime.sources.otlp import receiver as receiver_module
from collector_runtime.sources.otlp.http_io import BodyError, read_body, status_body
from collector_runtime.sources.otlp.payload import PayloadTooLarge
from tests.otlp_builders import PROTOBUF, body, export, fixture, span
from tests.sources.otlp_http import LIMIT, receiving, request

FIXTURES = [
    "python-botocore-0.66b2.pb",
    "js-aws-sdk-0.78.0.pb.gz",
    "js-aws-sdk-0.78.0.json",
    "js-aws-sdk-0.78.0.json.gz",
]


def headers_of(name: str) -> tuple[bytes, dict[str, str]]:
    data, content_type, encoding = fixture(name)
    return data, {"Content-Type": content_type, **({"Content-Encoding": encoding} if encoding else {})}


@pytest.mark.parametrize("chunked", [False, True])
@pytest.mark.parametrize("name", FIXTURES)
def test_real_exports_become_records(name: str, chunked: bool) -> None:
    data, headers = headers_of(name)
    with receiving() as (receiver, collected):
        status, reply_headers, reply = request(receiver.address[1], data, headers, chunked=chunked)
        counters = receiver.counters.as_dict()
    assert status == 200
    if "json" in headers["Content-Type"]:
        assert (reply_headers["content-type"], json.loads(reply)) == ("application/json", {})
    else:
        assert reply_headers["content-type"] == "application/x-protobuf"
        assert ExportTraceServiceResponse.FromString(reply) == ExportTraceServiceResponse()
    assert len(collected.calls) == 35 and {c.source for c in collected.calls} == {OTLP}
    assert counters["requests_accepted"] == 1 and counters["aws_spans"] == counters["spans_received"] == 35
    assert counters["bytes_received"] == len(data)


def test_keep_alive_connections_carry_many_requests() -> None:
    data, headers = headers_of("python-botocore-0.66b2.pb")
    with receiving() as (receiver, collected):
        connection = http.client.HTTPConnection("127.0.0.1", receiver.address[1], timeout=10)
        for _ in range(3):
            connection.request("POST", "/v1/traces", body=data, headers=headers)
            response = connection.getresponse()
            assert (response.status, response.read()) == (200, b"")
        connection.close()
    assert len(collected.batches) == 3


def test_each_answer_is_one_write_with_nagle_off(monkeypatch: pytest.MonkeyPatch) -> None:
    """Headers then body in two writes on a keep-alive connection stall the exporter (Nagle's algorithm waits for
    its delayed ACK, ~40 ms a request); the answer, success or refusal, must leave in one write, Nagle off."""
    writes: list[bytes] = []
    nodelay: list[int] = []
    ports: set[int] = set()

    def spied(name: str) -> Any:
        original = getattr(socket.socket, name)

        def write(self: socket.socket, data: Any, *args: Any) -> Any:
            if self.getsockname()[1] in ports:
                writes.append(bytes(data))
                nodelay.append(self.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
            return original(self, data, *args)

        return write

    for name in ("send", "sendall"):
        monkeypatch.setattr(socket.socket, name, spied(name))
    data, headers = headers_of("python-botocore-0.66b2.pb")
    with receiving() as (receiver, _):
        ports.add(receiver.address[1])
        connection = http.client.HTTPConnection("127.0.0.1", receiver.address[1], timeout=10)
        for _ in range(2):
            connection.request("POST", "/v1/traces", body=data, headers=headers)
            assert connection.getresponse().read() == b""
        connection.request("POST", "/v1/traces", body=data, headers={"Content-Type": "text/plain"})
        assert connection.getresponse().status == 415
        connection.close()
    assert [write[:12] for write in writes] == [b"HTTP/1.1 200", b"HTTP/1.1 200", b"HTTP/1.1 415"]
    for write in writes:  # each a whole answer: its head, and a body as long as it says
        head, _, reply = write.partition(b"\r\n\r\n")
        assert int(re.search(rb"Content-Length: (\d+)", head)[1]) == len(reply)  # type: ignore[index]
    assert nodelay and all(nodelay)


@pytest.mark.timeout(30)
def test_one_body_is_decoded_at_a_time(monkeypatch: pytest.MonkeyPatch) -> None:
    """Decoding is pure Python: handler threads decoding at once only take the GIL from each other (a forced
    switch every 5 ms), so concurrent requests are read in parallel and decoded one after the other."""
    decode = calls_module.decode_export
    guard = threading.Lock()
    active, most = [0], [0]

    def watched(*args: Any, **kwargs: Any) -> Any:
        with guard:
            active[0] += 1
            most[0] = max(most[0], active[0])
        try:
            time.sleep(0.2)  # releases the GIL: another handler could start decoding meanwhile
            return decode(*args, **kwargs)
        finally:
            with guard:
                active[0] -= 1

    monkeypatch.setattr(calls_module, "decode_export", watched)
    data, headers = headers_of("python-botocore-0.66b2.pb")
    statuses: list[int] = []
    with receiving() as (receiver, collected):
        senders = [
            threading.Thread(target=lambda: statuses.append(request(receiver.address[1], data, headers)[0]))
            for _ in range(3)
        ]
        for sender in senders:
            sender.start()
        for sender in senders:
            sender.join()
    assert statuses == [200, 200, 200] and len(collected.calls) == 3 * 35
    assert most[0] == 1


def test_other_spans_are_counted_and_unusable_ones_reported_as_partial_success() -> None:
    other = span()
    del other.attributes[:]
    data = body(export(span("S3", "ListBuckets"), other, span("S3", "")))
    with receiving() as (receiver, collected):
        status, _, reply = request(receiver.address[1], data, {"Content-Type": PROTOBUF})
        counters = receiver.counters.as_dict()
    assert status == 200 and ExportTraceServiceResponse.FromString(reply).partial_success.rejected_spans == 1
    assert (counters["aws_spans"], counters["spans_ignored"], counters["spans_rejected"]) == (1, 1, 1)
    assert counters["rejected_reasons"] == {"bad_name": 1}  # why the span could not be read, in stats.json
    assert [c.operation for c in collected.calls] == ["ListBuckets"]


@pytest.mark.parametrize(
    ("kwargs", "status", "reason"),
    [
        ({"body": b"\xff\xff\xff", "headers": {"Content-Type": PROTOBUF}}, 400, "malformed"),
        ({"body": b"{not json", "headers": {"Content-Type": "application/json"}}, 400, "malformed"),
        ({"body": b"x", "headers": {"Content-Type": PROTOBUF, "Content-Encoding": "gzip"}}, 400, "malformed"),
        ({"body": b"", "headers": {"Content-Type": "text/plain"}}, 415, "unsupported_media_type"),
        ({"body": b"", "headers": {"Content-Type": PROTOBUF, "Content-Encoding": "br"}}, 415, "unsupported_media_type"),
        ({"body": b"x" * (LIMIT + 1), "headers": {"Content-Type": PROTOBUF}}, 413, "too_large"),
        ({"body": b"x" * (LIMIT + 1), "headers": {"Content-Type": PROTOBUF}, "chunked": True}, 413, "too_large"),
        (
            {
                "body": gzip.compress(b"\0" * (LIMIT + 1)),
                "headers": {"Content-Type": PROTOBUF, "Content-Encoding": "gzip"},
            },
            413,
            "too_large",
        ),
        ({"path": "/v1/metrics"}, 404, "not_found"),
        ({"method": "GET"}, 405, "method_not_allowed"),
        ({"raw": b"POST /v1/traces HTTP/1.1\r\nContent-Length: -1\r\n\r\n"}, 400, "malformed"),
        (
            {"raw": b"POST /v1/traces HTTP/1.1\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"},
            400,
            "malformed",
        ),
        ({"raw": b"POST /v1/traces HTTP/1.1\r\nTransfer-Encoding: gzip\r\n\r\n"}, 400, "malformed"),
        ({"raw": b"POST /v1/traces HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"}, 400, "malformed"),
    ],
)
def test_refusals_are_answered_with_a_status_and_counted(kwargs: dict[str, object], status: int, reason: str) -> None:
    with receiving() as (receiver, collected):
        got, headers, reply = request(receiver.address[1], **kwargs)  # type: ignore[arg-type]
        still_serving = request(receiver.address[1], *headers_of("python-botocore-0.66b2.pb"))[0]
        counters = receiver.counters.as_dict()
    assert (got, headers["connection"]) == (status, "close")
    assert reply.startswith(b"\x08") or json.loads(reply)["message"]  # google.rpc.Status
    assert counters["refused_reasons"] == {reason: 1} and counters["requests_accepted"] == 1
    assert still_serving == 200 and len(collected.batches) == 1


def test_a_body_cut_short_or_stalled_is_counted_and_the_receiver_goes_on(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receiver_module._Handler, "timeout", 0.5)
    start = b"POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: 99\r\n\r\nab"
    with receiving() as (receiver, _):
        with socket.create_connection(receiver.address) as cut:
            cut.sendall(start)
            cut.shutdown(socket.SHUT_WR)  # the sender is gone: answered 400
            assert cut.recv(12) == b"HTTP/1.1 400"
        with socket.create_connection(receiver.address) as stalled:
            stalled.sendall(start)  # and then nothing: closed after the idle timeout, unanswered
            assert stalled.recv(100) == b""
        assert request(receiver.address[1], *headers_of("js-aws-sdk-0.78.0.pb.gz"))[0] == 200
        assert receiver.counters.as_dict()["refused_reasons"] == {"incomplete": 1, "malformed": 1}


def test_a_busy_loop_gets_503_and_exporters_retry() -> None:
    data, headers = headers_of("python-botocore-0.66b2.pb")
    with receiving(backlog=lambda: receiver_module.MAX_BACKLOG + 1) as (receiver, collected):
        status, reply_headers, _ = request(receiver.address[1], data, headers)
    assert (status, reply_headers["retry-after"], collected.batches) == (503, "1", [])


def test_senders_outside_allow_from_are_closed_unanswered() -> None:
    with receiving(allowed=lambda peer: peer != "127.0.0.1") as (receiver, collected):
        status, _, _ = request(receiver.address[1], *headers_of("python-botocore-0.66b2.pb"))
        counters = receiver.counters.as_dict()
    assert (status, collected.batches, counters["refused_reasons"]) == (0, [], {"not_allowed": 1})


def test_connections_beyond_the_limit_are_closed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(receiver_module, "MAX_CONNECTIONS", 1)
    with receiving() as (receiver, _):
        with socket.create_connection(receiver.address) as idle:
            idle.sendall(b"POST /v1/traces HTTP/1.1\r\n")  # holds the only slot
            status, _, _ = request(receiver.address[1], *headers_of("python-botocore-0.66b2.pb"))
        counters = receiver.counters.as_dict()
    assert status == 0 and counters["refused_reasons"]["too_many_connections"] == 1


def test_a_clean_stop_waits_for_the_request_being_handled() -> None:
    """A request whose records are being handed over when stop() is called is answered 200, and its records are
    in before stop() returns; later requests on an open connection get 503."""
    handing_over, release = threading.Event(), threading.Event()
    data, headers = headers_of("python-botocore-0.66b2.pb")
    with receiving() as (receiver, collected):
        submit = receiver.submit

        def slow_submit(calls: list[object]) -> None:
            handing_over.set()
            release.wait(5)
            submit(calls)  # type: ignore[arg-type]

        receiver.submit = slow_submit  # type: ignore[assignment]
        connection = http.client.HTTPConnection("127.0.0.1", receiver.address[1], timeout=10)
        connection.request("POST", "/v1/traces", body=data, headers=headers)
        assert handing_over.wait(5)
        stopper = threading.Thread(target=receiver.stop)
        stopper.start()
        release.set()
        first = connection.getresponse()
        assert (first.status, first.read()) == (200, b"")
        stopper.join(10)
        assert len(collected.batches) == 1
        connection.request("POST", "/v1/traces", body=data, headers=headers)
        assert connection.getresponse().status == 503


def test_read_body_framings() -> None:
    def headers(**values: str) -> Message:
        message = Message()
        for name, value in values.items():
            message[name.replace("_", "-")] = value
        return message

    chunked = headers(Transfer_Encoding="chunked")
    assert read_body(io.BytesIO(b"3;ext=1\r\nabc\r\n2\r\nde\r\n0\r\nX-Trailer: y\r\n\r\n"), chunked, 10) == b"abcde"
    assert read_body(io.BytesIO(b"abc"), headers(Content_Length="3"), 3) == b"abc"
    assert read_body(io.BytesIO(b""), headers(), 3) == b""
    with pytest.raises(PayloadTooLarge):
        read_body(io.BytesIO(b"b\r\nhello world\r\n0\r\n\r\n"), chunked, 10)
    for broken in (b"3\r\nab", b"3\r\nabcX\r\n", b"-1\r\n", b"3\r\nabc\r\n", b"1" * 2000):
        with pytest.raises(BodyError):
            read_body(io.BytesIO(broken), chunked, 10)
    with pytest.raises(BodyError):
        read_body(io.BytesIO(b"ab"), headers(Content_Length="3"), 10)


def test_status_bodies_are_google_rpc_status() -> None:
    encoded, kind = status_body("protobuf", 400, "bad")
    assert (encoded, kind) == (b"\x08\x03\x12\x03bad", "application/x-protobuf")
    assert json.loads(status_body("json", 413, "big")[0]) == {"code": 8, "message": "big"}
