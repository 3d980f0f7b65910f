"""Decompression that stops at a bound (`bounded_inflate`), the OTLP receiver's and the proxy's."""

from __future__ import annotations

import gzip
import zlib

import pytest

from collector_runtime.bounded_inflate import GZIP, GZIP_OR_ZLIB, Truncated, inflate


def test_every_member_is_decoded_up_to_one_byte_past_the_limit() -> None:
    assert inflate(gzip.compress(b"ab") + gzip.compress(b"cd"), GZIP, 4) == b"abcd"
    assert inflate(gzip.compress(b"ab") + gzip.compress(b"cde"), GZIP, 4) == b"abcde"  # over: limit + 1
    assert inflate(gzip.compress(bytes(1 << 24)), GZIP, 1000) == bytes(1001)
    assert inflate(zlib.compress(b"zlib"), GZIP_OR_ZLIB, 10) == inflate(gzip.compress(b"zlib"), GZIP_OR_ZLIB, 10)


@pytest.mark.parametrize(
    ("data", "error"),
    # gzip's header holds the time it was made: mtime=0 keeps the parameters, and so what each test worker
    # collects, the same (pytest-xdist refuses workers that collected different tests)
    [(gzip.compress(b"hello", mtime=0)[:-5], Truncated), (b"", Truncated), (b"no", zlib.error)],
    ids=["cut", "empty", "not-gzip"],
)
def test_data_that_ends_inside_a_stream_or_is_not_compressed_is_refused(data: bytes, error: type[Exception]) -> None:
    with pytest.raises(error):
        inflate(data, GZIP, 100)
