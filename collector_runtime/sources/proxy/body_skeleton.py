"""A body less the contents of its long values: what the matcher reads of a request over MAX_BODY. Pure.

A deployment package sent inline (Lambda `CreateFunction`'s `Code.ZipFile`, which the Go SDK writes second
and boto3 where the caller put it) or a template (CloudFormation's `TemplateBody`, before `RoleARN` and
`Tags` in the AWS CLI's `cloudformation deploy`) would otherwise hide the members after it from the bytes
read. A JSON body is read as it passes, whole or in chunks (`JsonSkeleton`); a form body whole
(`form_without_long_values`: `name=value` pairs, a value over LONG_STRING bytes kept as `name=`).

Outside its strings JSON has no quotes, so the strings are found in order: each longer than LONG_STRING
bytes is kept as `""` (no identifier is that long), everything else as sent, until `limit` bytes are kept
(then the body is cut, as before). The work is one pass of a pattern without backtracking over the bytes
looked at, and a few steps per string kept: bounded by `limit`, however large or hostile the body.
"""

from __future__ import annotations

import re

LONG_STRING = 16_384  # bytes of a JSON string, as sent, past which it is no name (a package, a document)
# The rest of an open JSON string, up to its closing quote or the chunk's end (escapes included); possessive,
# so one pass without backtracking. A backslash can be left over only as a chunk's last byte.
_STRING_REST = re.compile(rb'[^"\\]*+(?:\\.[^"\\]*+)*+', re.DOTALL)


class JsonSkeleton:
    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.kept = bytearray()  # the body so far, less its long strings' contents
        self.full = False  # over `limit` bytes kept: the rest is not looked at
        self._open = False  # inside a string
        self._string = bytearray()  # the open string's bytes, while it is short
        self._length = 0  # the open string's length so far
        self._escaped = False  # the last chunk ended on a backslash inside a string

    def feed(self, chunk: bytes) -> None:
        position = 0
        while position < len(chunk) and not self.full:
            position = self._inside(chunk, position) if self._open else self._outside(chunk, position)
            self.full = len(self.kept) > self.limit

    def result(self) -> tuple[bytes, bool]:
        """What is read of the body (at most `limit` bytes) and whether it was cut (or ended inside a string)."""
        return bytes(self.kept[: self.limit]), self.full or self._open

    def _outside(self, chunk: bytes, position: int) -> int:
        quote = chunk.find(b'"', position)
        end = len(chunk) if quote < 0 else quote
        self.kept += chunk[position:end]
        if quote < 0:
            return end
        self._open, self._length = True, 0
        self._string.clear()
        return quote + 1

    def _inside(self, chunk: bytes, position: int) -> int:
        start = position + 1 if self._escaped else position  # the byte a backslash at the last chunk's end escaped
        self._escaped = False
        end = _STRING_REST.match(chunk, start).end()  # type: ignore[union-attr]  # it matches the empty string
        if end < len(chunk) and chunk[end] == ord("\\"):  # the chunk's last byte: what it escapes comes next
            self._escaped = True
            end += 1
        self._add(chunk[position:end])
        if end == len(chunk):
            return end
        self.kept += b'"' + (self._string if self._length <= LONG_STRING else b"") + b'"'  # the closing quote
        self._open = False
        return end + 1

    def _add(self, piece: bytes) -> None:
        self._length += len(piece)
        if self._length <= LONG_STRING:
            self._string += piece
        elif self._string:
            self._string.clear()  # long: only its length is counted from here


def form_without_long_values(body: bytes, limit: int) -> tuple[bytes, bool]:
    """A form body (`a=1&b=2`) with each value longer than LONG_STRING bytes, as sent, left out (`name=`):
    what is read of it (at most `limit` bytes) and whether it was cut. A few steps per pair kept, bounded by
    `limit`, and one search over a long one."""
    kept = bytearray()
    position = 0
    while position < len(body) and len(kept) <= limit:
        end = body.find(b"&", position)
        end = len(body) if end < 0 else end
        equals = body.find(b"=", position, min(end, position + LONG_STRING + 1))
        if end - equals - 1 > LONG_STRING and equals >= 0:
            kept += body[position : equals + 1]
        else:
            kept += body[position:end]
        if end < len(body):
            kept += b"&"
        position = end + 1
    return bytes(kept[:limit]), len(kept) > limit or position < len(body)


def without_long_strings(body: bytes, limit: int) -> tuple[bytes, bool]:
    """A whole body through a JsonSkeleton: what is read of it, and whether it was cut."""
    skeleton = JsonSkeleton(limit)
    skeleton.feed(body)
    return skeleton.result()
