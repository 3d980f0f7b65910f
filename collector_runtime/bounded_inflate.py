"""Decompression that stops at a bound: what a client's compressed body may cost (a gzip bomb holds 256 MiB
of zeros in 256 KiB). Pure; the OTLP receiver's and the proxy's."""

from __future__ import annotations

import zlib

GZIP = 16 + zlib.MAX_WBITS
GZIP_OR_ZLIB = 32 + zlib.MAX_WBITS  # zlib tells which from the header (HTTP's `deflate` is zlib's format)


class Truncated(ValueError):
    """The compressed data ends inside a stream."""


def inflate(data: bytes, wbits: int, limit: int) -> bytes:
    """`data` decompressed, every concatenated member (gzip allows several), stopping once it is longer than
    `limit`: at most `limit + 1` bytes, so a longer result says "over the limit". zlib.error for data that is
    not compressed so, Truncated for data that ends inside a stream."""
    out = bytearray()
    while True:
        stream = zlib.decompressobj(wbits)
        out += stream.decompress(data, limit - len(out) + 1)
        if len(out) > limit:
            return bytes(out)
        if not stream.eof:
            raise Truncated("compressed data ends inside a stream")
        data = stream.unused_data
        if not data:
            return bytes(out)
