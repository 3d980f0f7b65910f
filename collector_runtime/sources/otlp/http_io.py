"""The bytes of OTLP/HTTP around the decoder: a request body read within a bound, and the response bodies.

Pure apart from reading the given stream. A body comes with `Content-Length`, or with
`Transfer-Encoding: chunked` and no length (the JavaScript exporters send it so): either way it is never
read past `max_bytes`, so a sender cannot make the receiver hold more than that. Responses follow the
OTLP/HTTP specification: an `ExportTraceServiceResponse` (empty, or with `partial_success` when spans
were rejected) in the request's encoding, and a `google.rpc.Status` for every 4xx/5xx.
"""

from __future__ import annotations

import json
from email.message import Message
from typing import Protocol

from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
    ExportTracePartialSuccess,
    ExportTraceServiceResponse,
)

from .payload import JSON, OtlpPayloadError, PayloadTooLarge

MAX_CHUNK_LINE = 1_024  # a chunk-size line (with extensions) or a trailer line
MAX_TRAILERS = 64
MAX_LENGTH_DIGITS = 18  # a Content-Length beyond 10**18 is no length (int() of 5,000 digits even raises)
PROTOBUF_TYPE, JSON_TYPE = "application/x-protobuf", "application/json"
# google.rpc.Code values for the statuses answered
_RPC_CODES = {400: 3, 404: 5, 405: 12, 413: 8, 415: 3, 500: 13, 503: 14}


class Stream(Protocol):
    """What a request's body is read from (the handler's rfile, a BytesIO in tests)."""

    def read(self, size: int | None = ..., /) -> bytes: ...

    def readline(self, size: int | None = ..., /) -> bytes: ...


class BodyError(OtlpPayloadError):
    """A request whose body cannot be read as HTTP/1.1 says (the connection is closed after the answer)."""


def read_body(stream: Stream, headers: Message, max_bytes: int) -> bytes:
    """The request body, at most `max_bytes` long: PayloadTooLarge beyond, BodyError when it is not well framed."""
    encoding = headers.get_all("Transfer-Encoding") or []
    length = headers.get_all("Content-Length") or []
    if encoding:
        if length:
            raise BodyError("both Content-Length and Transfer-Encoding")
        if [value.strip().lower() for value in encoding] != ["chunked"]:
            raise BodyError("unsupported Transfer-Encoding")
        return _read_chunked(stream, max_bytes)
    if len(length) > 1:
        raise BodyError("more than one Content-Length")
    size = _content_length(length[0]) if length else 0
    if size > max_bytes:
        raise PayloadTooLarge(f"Content-Length {size} exceeds {max_bytes}")
    return _read_exactly(stream, size)


def _content_length(value: str) -> int:
    """RFC 9110's 1*DIGIT, ASCII only: str.isdigit() and int() would take "²" or "١٢", int() also signs, "_"."""
    text = value.strip(" \t")
    if not text or len(text) > MAX_LENGTH_DIGITS or not all(c in "0123456789" for c in text):
        raise BodyError("invalid Content-Length")
    return int(text)


def _read_chunked(stream: Stream, max_bytes: int) -> bytes:
    body = bytearray()
    while True:
        size = _chunk_size(stream.readline(MAX_CHUNK_LINE + 1))
        if size == 0:
            _skip_trailers(stream)
            return bytes(body)
        if len(body) + size > max_bytes:
            raise PayloadTooLarge(f"chunked body exceeds {max_bytes} bytes")
        body += _read_exactly(stream, size)
        if stream.readline(3) not in (b"\r\n", b"\n"):
            raise BodyError("chunk not followed by CRLF")


def _chunk_size(line: bytes) -> int:
    text = line.split(b";", 1)[0].strip()
    if (
        len(line) > MAX_CHUNK_LINE
        or not text
        or len(text) > 16
        or not all(c in b"0123456789abcdefABCDEF" for c in text)
    ):
        raise BodyError("invalid chunk size")
    return int(text, 16)


def _skip_trailers(stream: Stream) -> None:
    for _ in range(MAX_TRAILERS):
        line = stream.readline(MAX_CHUNK_LINE + 1)
        if line in (b"\r\n", b"\n"):
            return
        if not line or len(line) > MAX_CHUNK_LINE:
            break
    raise BodyError("invalid chunked trailer")


def _read_exactly(stream: Stream, size: int) -> bytes:
    data = stream.read(size) if size else b""
    if len(data) != size:
        raise BodyError("body shorter than announced")
    return data


def success_body(kind: str, rejected_spans: int = 0) -> tuple[bytes, str]:
    """The OTLP success response (and its Content-Type), naming the spans refused as unusable, if any."""
    response = ExportTraceServiceResponse()
    if rejected_spans:
        response.partial_success.CopyFrom(
            ExportTracePartialSuccess(
                rejected_spans=rejected_spans, error_message="AWS SDK spans without a usable rpc.service/rpc.method"
            )
        )
    if kind == JSON:
        return json.dumps(json_format.MessageToDict(response)).encode(), JSON_TYPE
    return response.SerializeToString(), PROTOBUF_TYPE


def status_body(kind: str, status: int, message: str) -> tuple[bytes, str]:
    """A google.rpc.Status (code, message) for an error answer, in the request's encoding."""
    code = _RPC_CODES.get(status, 2)
    if kind == JSON:
        return json.dumps({"code": code, "message": message}).encode(), JSON_TYPE
    text = message.encode()
    return b"\x08" + _varint(code) + b"\x12" + _varint(len(text)) + text, PROTOBUF_TYPE


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)
