"""The OTLP receiver's connection limits over real loopback TCP: slow clients (slowloris) cannot shut out a real
exporter, a request has a deadline, one address cannot hold every connection, an aborted request is counted and
logged once (never a traceback), and a Content-Length that is not plain ASCII digits is a 400."""

from __future__ import annotations

import io
import logging
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from email.message import Message

import pytest
from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SpanExportResult

from collector_runtime.sources.otlp import receiver as receiver_module
from collector_runtime.sources.otlp.connections import EVICTED, Connections, Limits
from collector_runtime.sources.otlp.http_io import BodyError, read_body
from tests.helpers import wait_for
from tests.otlp_builders import fixture
from tests.sources.otlp_http import receiving, request

REQUEST_START = b"POST /v1/traces HTTP/1.1\r\nHost: 127.0.0.1\r\n"
REAL = fixture("python-botocore-0.66b2.pb")[0]
PROTOBUF = {"Content-Type": "application/x-protobuf"}


def aws_spans(count: int) -> list[ReadableSpan]:
    """Ended SDK spans as botocore's instrumentation makes them (rpc.system aws-api)."""
    tracer = TracerProvider(resource=Resource.create({"service.name": "slowloris-victim"})).get_tracer("test")
    spans = []
    for _ in range(count):
        span = tracer.start_span("S3.ListBuckets", attributes={"rpc.system": "aws-api", "rpc.service": "S3"})
        span.set_attribute("rpc.method", "ListBuckets")
        span.end()
        spans.append(span)
    return spans  # type: ignore[return-value]


@contextmanager
def slow_clients(port: int, count: int, every: float, source: str = "127.0.0.1") -> Iterator[list[int]]:
    """`count` connections that each send a request line, then one header line every `every` seconds, forever;
    a connection the receiver closes is opened again (as a slowloris does). Yields [reconnections]."""
    stop, reconnections = threading.Event(), [0]

    def connect() -> socket.socket | None:
        try:
            held = socket.create_connection(("127.0.0.1", port), timeout=1, source_address=(source, 0))
            held.sendall(REQUEST_START)
            return held
        except OSError:
            return None

    def dribble() -> None:
        held = [connect() for _ in range(count)]
        while not stop.wait(every):
            for index, connection in enumerate(held):
                try:
                    assert connection is not None
                    connection.sendall(b"X-Slow: a\r\n")
                except (OSError, AssertionError):
                    if connection is not None:
                        connection.close()
                    held[index] = connect()
                    reconnections[0] += 1
        for connection in held:
            if connection is not None:
                connection.close()

    thread = threading.Thread(target=dribble, daemon=True)
    thread.start()
    try:
        yield reconnections
    finally:
        stop.set()
        thread.join(10)


@pytest.mark.timeout(90)
def test_slow_connections_do_not_shut_out_a_real_exporter(caplog: pytest.LogCaptureFixture) -> None:
    """More slow connections than the receiver serves, held for about 5 s: every export of the real OTLP/HTTP exporter
    in that time is still answered (before the fix: refused once the slow ones held every connection)."""
    slow = receiver_module.MAX_CONNECTIONS + 16
    results = []
    with receiving() as (receiver, collected):
        exporter = OTLPSpanExporter(endpoint=f"http://127.0.0.1:{receiver.address[1]}/v1/traces", timeout=5)
        with slow_clients(receiver.address[1], slow, every=0.5):
            time.sleep(1.5)  # the slow connections are all open and dribbling
            for _ in range(6):
                results.append(exporter.export(aws_spans(3)))
                time.sleep(0.5)
        exporter.shutdown()
        counters = receiver.counters.as_dict()
    assert results == [SpanExportResult.SUCCESS] * 6
    assert len(collected.calls) == 18 and counters["aws_spans"] == 18
    assert counters["refused_reasons"]["incomplete"] >= 16  # slow connections evicted mid-request are counted
    assert "Traceback" not in caplog.text


@pytest.mark.timeout(30)
def test_a_request_that_does_not_finish_in_time_is_closed_and_counted(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """A header line every 0.2 s keeps every read short (the per-read timeout never fires); the deadline for the
    whole request closes it anyway."""
    monkeypatch.setattr(receiver_module, "REQUEST_TIMEOUT", 1.0, raising=False)
    with receiving() as (receiver, _):
        with socket.create_connection(receiver.address, timeout=6) as slow:
            slow.sendall(REQUEST_START)
            start = time.monotonic()
            closed = False
            while not closed and time.monotonic() - start < 6:
                try:
                    slow.sendall(b"X-Slow: a\r\n")
                    time.sleep(0.2)
                except OSError:
                    closed = True
            elapsed = time.monotonic() - start
        assert request(receiver.address[1], REAL, PROTOBUF)[0] == 200
        assert wait_for(lambda: "incomplete" in receiver.counters.as_dict()["refused_reasons"], timeout=5)
        counters = receiver.counters.as_dict()
    assert closed and elapsed < 4
    assert counters["refused_reasons"] == {"incomplete": 1}
    assert "deadline" in caplog.text and "Traceback" not in caplog.text


@pytest.mark.timeout(30)
def test_a_request_line_then_close_is_counted_incomplete_without_a_traceback(
    capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, "csm_collector")
    with receiving() as (receiver, collected):
        for _ in range(3):
            with socket.create_connection(receiver.address) as gone:
                gone.sendall(b"POST /v1/traces HTTP/1.1\r\n")
        with socket.create_connection(receiver.address) as cut:
            cut.sendall(b"POST /v1/tra")  # cut in the middle of the request line
        assert request(receiver.address[1], REAL, PROTOBUF)[0] == 200
        # Each closed connection is counted by its own handler thread, which may still be reading its end.
        assert wait_for(lambda: receiver.counters.as_dict()["refused_reasons"].get("incomplete") == 4, timeout=5)
        counters = receiver.counters.as_dict()
    assert counters["refused_reasons"] == {"incomplete": 4} and len(collected.batches) == 1
    logged = [record.getMessage() for record in caplog.records if "incomplete" in record.getMessage()]
    assert len(logged) == 1, logged  # once per reason
    assert "Traceback" not in capfd.readouterr().err + caplog.text


@pytest.mark.parametrize(
    "value",
    [b"\xb2", b"\xb9\xb2", b"+5", b"5, 5", b"0x10", b"1 2", b"1" * 5000, b"9" * 30, b"\xd9\xa3"],
    ids=["superscript-two", "superscripts", "sign", "list", "hex", "space", "5000-digits", "30-digits", "utf8"],
)
def test_a_content_length_that_is_not_ascii_digits_is_400(value: bytes, capfd: pytest.CaptureFixture[str]) -> None:
    raw = b"POST /v1/traces HTTP/1.1\r\nContent-Type: application/x-protobuf\r\nContent-Length: " + value + b"\r\n\r\n"
    with receiving() as (receiver, _):
        status, headers, _ = request(receiver.address[1], raw=raw)
        counters = receiver.counters.as_dict()
    assert (status, headers["connection"], counters["refused_reasons"]) == (400, "close", {"malformed": 1})
    assert "Traceback" not in capfd.readouterr().err


@pytest.mark.timeout(30)
def test_one_address_beyond_its_cap_loses_its_own_oldest_connection(monkeypatch: pytest.MonkeyPatch) -> None:
    """Past MAX_CONNECTIONS_PER_ADDRESS, a new connection from an address closes that address's connection that has
    been reading the longest; other addresses' connections stay open, and its new request is served."""
    monkeypatch.setattr(receiver_module, "MAX_CONNECTIONS_PER_ADDRESS", 3, raising=False)

    def open_from(source: str) -> socket.socket:
        connection = socket.create_connection(("127.0.0.1", port), timeout=5, source_address=(source, 0))
        connection.sendall(REQUEST_START)
        time.sleep(0.1)  # accepted and reading, in this order
        return connection

    def is_closed(connection: socket.socket) -> bool:
        connection.settimeout(0.3)
        try:
            return connection.recv(1) == b""
        except TimeoutError:
            return False
        except OSError:
            return True

    with receiving() as (receiver, _):
        port = receiver.address[1]
        other = [open_from("127.0.0.3") for _ in range(3)]
        busy = [open_from("127.0.0.2") for _ in range(5)]
        assert [is_closed(c) for c in busy] == [True, True, False, False, False]
        assert request(port, REAL, PROTOBUF)[0] == 200  # from 127.0.0.1: its own cap
        assert not any(is_closed(c) for c in other)
        counters = receiver.counters.as_dict()
        for connection in other + busy:
            connection.close()
    assert counters["refused_reasons"] == {"incomplete": 2} and counters["requests_accepted"] == 1


class FakeSocket:
    def __init__(self) -> None:
        self.shut = False

    def shutdown(self, how: int, /) -> None:
        self.shut = True


def test_connections_deadlines_and_eviction_with_a_clock() -> None:
    """The supervisor alone: deadlines per state, the global cap's grace (EVICT_AFTER), handling never ended."""
    now = [0.0]
    limits = Limits(max_connections=3, per_address=2, request_timeout=10, idle_timeout=15, evict_after=1)
    table = Connections(limits, clock=lambda: now[0])
    a1, a2, b1, c1, d1 = (FakeSocket() for _ in range(5))
    assert table.admit(a1, "a") and table.admit(a2, "a") and table.admit(b1, "b")
    assert not table.admit(c1, "c")  # full, and nobody has been reading for 1 s: the newcomer is refused
    table.reading(table.watch(a1))
    now[0] = 2.0
    table.handling(table.watch(b1))  # answering: never evicted
    table.reading(table.watch(a2))
    assert table.admit(c1, "c") and a1.shut and table.watch(a1).ended_by == EVICTED
    now[0] = 11.9
    table.reap()
    assert not a2.shut
    now[0] = 12.1
    table.reap()  # a2 read for more than 10 s
    assert a2.shut and not b1.shut and not c1.shut and len(table) == 2
    now[0] = 100.0
    table.reap()  # c1 silent for more than 15 s; b1 still handling
    assert c1.shut and not b1.shut
    table.release(b1)
    assert len(table) == 0 and table.admit(d1, "d")


@pytest.mark.parametrize("value", ["\u00b2", "\u0661\u0662", "+3", "3_0", " ", "1" * 19])
def test_read_body_takes_only_ascii_digits_as_a_length(value: str) -> None:
    headers = Message()
    headers["Content-Length"] = value
    with pytest.raises(BodyError):
        read_body(io.BytesIO(b"x" * 20), headers, 1 << 30)
