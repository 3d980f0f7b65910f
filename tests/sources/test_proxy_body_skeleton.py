"""A JSON body less its long strings' contents, whole or fed in chunks (`body_skeleton`)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector_runtime.sources.proxy.body_skeleton import (
    LONG_STRING,
    JsonSkeleton,
    form_without_long_values,
    without_long_strings,
)

LONG = b"x" * (LONG_STRING + 1)


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        (b'{"a": "' + LONG + b'", "b": "c"}', b'{"a": "", "b": "c"}'),
        (b'["' + LONG[1:] + b'"]', b'["' + LONG[1:] + b'"]'),  # LONG_STRING bytes: kept
        (b'{"a": "' + b'\\"' * LONG_STRING + b'"}', b'{"a": ""}'),  # escaped quotes are inside the string
        (b'{"a": "\\\\", "b": "' + LONG + b'"}', b'{"a": "\\\\", "b": ""}'),  # an escaped backslash ends no string
        (b'"' * 100_000, b'"' * 100_000),  # empty strings
    ],
    ids=["long", "at-the-limit", "escapes", "escaped-backslash", "quotes"],
)
def test_long_strings_are_emptied_and_the_rest_kept_as_sent(body: bytes, expected: bytes) -> None:
    assert without_long_strings(body, len(body)) == (expected, False)


def test_a_body_is_cut_at_its_limit_and_one_ending_inside_a_string_is_cut() -> None:
    short = json.dumps(["ab"] * 10_000).encode()
    assert without_long_strings(short, 1_000) == (short[:1_000], True)
    unterminated = b'{"a": "' + b'\\"' * 100_000
    assert without_long_strings(unterminated, 1_000) == (b'{"a": ', True)


def test_a_deployment_package_leaves_the_members_after_it() -> None:
    body = json.dumps({"Code": {"ZipFile": "UEsDB" * 1_000_000}, "FunctionName": "worker", "Tags": {"a": "b"}})
    kept, cut = without_long_strings(body.encode(), 65_536)
    assert not cut and json.loads(kept) == {"Code": {"ZipFile": ""}, "FunctionName": "worker", "Tags": {"a": "b"}}


_DOCUMENTS = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=40) | st.sampled_from(["\\" * 3, '"\\"', "é" * 9]),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=20,
)


@given(document=_DOCUMENTS, cuts=st.lists(st.integers(min_value=0, max_value=400), max_size=6))
def test_any_chunking_gives_what_the_whole_body_gives(document: object, cuts: list[int]) -> None:
    """A streamed body arrives in chunks that split strings and escapes anywhere."""
    body = json.dumps({"doc": document, "blob": "\\" * 20 + "x" * (LONG_STRING + 5), "after": document}).encode()
    whole = without_long_strings(body, len(body))
    assert json.loads(whole[0]) == {"doc": document, "blob": "", "after": document}
    skeleton = JsonSkeleton(len(body))
    for start, end in zip([0, *sorted(cuts)], [*sorted(cuts), len(body)], strict=True):
        skeleton.feed(body[start:end])
    assert skeleton.result() == whole


def test_a_backslash_at_a_chunks_end_escapes_the_next_chunks_first_byte() -> None:
    body = b'{"a": "x\\"y", "b": "' + LONG + b'"}'
    skeleton = JsonSkeleton(len(body))
    for byte in body:
        skeleton.feed(bytes([byte]))
    assert skeleton.result() == (b'{"a": "x\\"y", "b": ""}', False)


@pytest.mark.parametrize(
    ("body", "limit", "expected"),
    [
        (
            b"Action=A&Body=" + LONG + b"&RoleARN=r&Tags.member.1.Key=k",
            1_000,
            (b"Action=A&Body=&RoleARN=r&Tags.member.1.Key=k", False),
        ),
        (b"a=" + LONG[1:] + b"&b=c", 100_000, (b"a=" + LONG[1:] + b"&b=c", False)),  # LONG_STRING bytes: kept
        (b"&&a=&=b&" + LONG + b"&c", 100_000, (b"&&a=&=b&" + LONG + b"&c", False)),  # no name, no value, no `=`
        (b"x=1&" * 1_000, 1_000, ((b"x=1&" * 1_000)[:1_000], True)),
    ],
    ids=["long-value", "at-the-limit", "odd-pairs", "cut"],
)
def test_a_form_body_is_read_less_its_long_values(body: bytes, limit: int, expected: tuple[bytes, bool]) -> None:
    assert form_without_long_values(body, limit) == expected
