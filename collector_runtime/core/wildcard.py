"""IAM wildcard matching without regular expressions. Pure.

`*` matches any run of characters (none included), `?` exactly one; every other character is itself.
Actions compare case-insensitively, resources case-sensitively, as IAM does. A regex built from a
pattern backtracks: `a*a*a*...c` against `aaaa...a` takes exponential time, so two datagrams naming
such resources could stall the collector. Here the pattern is cut at its `*`s into segments, and each
segment is found at its leftmost place after the previous one (leftmost is always best, so nothing is
ever retried). The cost is at most O(len(pattern) x len(subject)); a segment without `?` is found by
str.find (linear), one with `?` is compared at each place by its `?`-free pieces (str.startswith).
"""

from __future__ import annotations

import functools
from typing import NamedTuple


class _Segment(NamedTuple):
    length: int
    pieces: tuple[tuple[int, str], ...]  # (offset in the segment, literal text): the parts between `?`s
    plain: str | None  # the segment itself when it has no `?` (the common case: plain string operations)


def matches(pattern: str, subject: str, *, ignore_case: bool = False) -> bool:
    """Whether the IAM wildcard `pattern` matches the whole of `subject`."""
    if ignore_case:
        pattern, subject = pattern.lower(), subject.lower()
    if "*" not in pattern and "?" not in pattern:
        return pattern == subject
    first, middle, last = _compiled(pattern)
    if last is None:  # no `*`: one segment, the whole subject
        return first.length == len(subject) and _at(first, subject, 0)
    end = len(subject) - last.length
    if first.length > end or not _ends_match(first, last, subject, end):
        return False
    position = first.length
    for segment in middle:
        found = _find(segment, subject, position, end)
        if found < 0:
            return False
        position = found + segment.length
    return True


def action_matches(pattern: str, action: str) -> bool:
    """An Action pattern against an action name (case-insensitive, as IAM)."""
    return matches(pattern, action, ignore_case=True)


def has_wildcard(text: str) -> bool:
    return "*" in text or "?" in text


def wildcard_count(text: str) -> int:
    return text.count("*") + text.count("?")


@functools.lru_cache(maxsize=4096)
def _compiled(pattern: str) -> tuple[_Segment, tuple[_Segment, ...], _Segment | None]:
    """The first segment, the middle ones (empty ones, from `**`, dropped) and the last (None: no `*`)."""
    texts = pattern.split("*")
    if len(texts) == 1:
        return _segment(texts[0]), (), None
    middle = tuple(_segment(text) for text in texts[1:-1] if text)
    return _segment(texts[0]), middle, _segment(texts[-1])


def _segment(text: str) -> _Segment:
    pieces, offset = [], 0
    for piece in text.split("?"):
        if piece:
            pieces.append((offset, piece))
        offset += len(piece) + 1
    return _Segment(len(text), tuple(pieces), None if "?" in text else text)


def _ends_match(first: _Segment, last: _Segment, subject: str, end: int) -> bool:
    """Whether the text before the first `*` and after the last one are the subject's start and end."""
    if first.plain is not None and last.plain is not None:  # e.g. `s3:Get*`, `arn:...:table/*/index/*`
        return subject.startswith(first.plain) and subject.endswith(last.plain)
    return _at(first, subject, 0) and _at(last, subject, end)


def _at(segment: _Segment, subject: str, start: int) -> bool:
    """Whether `segment` is the text of `subject` at `start` (its `?`s any character)."""
    if start < 0 or start + segment.length > len(subject):
        return False
    return all(subject.startswith(piece, start + offset) for offset, piece in segment.pieces)


def _find(segment: _Segment, subject: str, start: int, end: int) -> int:
    """The leftmost place in subject[start:end] where `segment` is, or -1."""
    if segment.plain is not None:
        return subject.find(segment.plain, start, end)
    for position in range(start, end - segment.length + 1):
        if _at(segment, subject, position):
            return position
    return -1
