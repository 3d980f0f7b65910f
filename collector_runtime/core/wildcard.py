"""IAM wildcard matching without regular expressions. Pure.

`*` matches any run of characters (none included), `?` exactly one; every other character is itself.
Actions compare case-insensitively, resources case-sensitively, as IAM does. A regex built from a
pattern backtracks: `a*a*a*...c` against `aaaa...a` takes exponential time, so two datagrams naming
such resources could stall the collector. Here the pattern is cut at its `*`s into segments, and each
segment is found at its leftmost place after the previous one (leftmost is always best, so nothing is
ever retried). The cost is at most O(len(pattern) x len(subject)); a segment without `?` is found by
str.find (linear), one with `?` is compared at each place by its `?`-free pieces (str.startswith).

IAM's literal forms (policy Version 2012-10-17, "special characters" of its policy variables): `${*}`, `${?}`
and `${$}` stand for one literal `*`, `?` and `$`. A name read from input (an S3 key `reports/*.csv`, a
topic ARN ending in `:*`) is written with them (`literal`), else IAM would read a wildcard or a policy
variable (`${aws:username}`) in it; the collector's own `*` and `?` (an unknown account, `-??????`) are not.
Matching takes each literal form for the one character it stands for, on both sides.
"""

from __future__ import annotations

import functools
from array import array
from typing import NamedTuple, TypeAlias

_LITERAL_FORMS = (("$", "${$}"), ("*", "${*}"), ("?", "${?}"))  # `$` first: the other two write one
_FORM_ENDS = frozenset({"*}", "?}", "$}"})  # what follows `${` in a literal form


def literal(name: str) -> str:
    """`name` as IAM reads it character for character: `reports/*.csv` -> `reports/${*}.csv`."""
    if "$" not in name and "*" not in name and "?" not in name:
        return name
    for character, form in _LITERAL_FORMS:
        name = name.replace(character, form)
    return name


class _Segment(NamedTuple):
    length: int
    pieces: tuple[tuple[int, str], ...]  # (offset in the segment, literal text): the parts between `?`s
    plain: str | None  # the segment itself when it has no `?` (the common case: plain string operations)


def matches(pattern: str, subject: str, *, ignore_case: bool = False) -> bool:
    """Whether the IAM wildcard `pattern` matches the whole of `subject`."""
    if ignore_case:
        pattern, subject = pattern.lower(), subject.lower()
    if "${" in pattern or "${" in subject:  # a literal form is one character: compared as codes
        return _codes_match(pattern, _codes(subject))
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
    """Whether `text` has a `*` or `?` outside its literal forms."""
    return wildcard_count(text) > 0


def wildcard_count(text: str) -> int:
    if "${" not in text:
        return text.count("*") + text.count("?")
    return sum(1 for code in _codes(text) if code < 0)  # literal forms read left to right, as IAM does


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


# A pattern or subject with literal forms, as codes: a character's code point, or one of the two wildcards.
_ANY_RUN, _ANY_ONE = -1, -2
_WILDCARD_CODES = {"*": _ANY_RUN, "?": _ANY_ONE}
Codes: TypeAlias = "array[int]"  # signed 32-bit ints: 4 bytes a character, where a tuple of ints holds up to 36
_CodeSegment = tuple[int, tuple[tuple[int, Codes], ...]]  # length, (offset, codes) between `?`s
# Entries of up to MAX_RESOURCE_PATTERN_CHARS codes each: 1,024 of them hold at most 8 MiB.
_CACHED_CODES = 1024


@functools.lru_cache(maxsize=_CACHED_CODES)
def _codes(text: str) -> Codes:
    """`text` as codes: a literal form is the code of its character, `*` and `?` elsewhere the wildcards."""
    codes: list[int] = []
    position = 0
    while (start := text.find("${", position)) >= 0:
        codes += (_WILDCARD_CODES.get(c, ord(c)) for c in text[position:start])
        is_form = text[start + 2 : start + 4] in _FORM_ENDS
        codes.append(ord(text[start + 2]) if is_form else ord("$"))
        position = start + 4 if is_form else start + 1
    codes += (_WILDCARD_CODES.get(c, ord(c)) for c in text[position:])
    return array("i", codes)


def _codes_match(pattern: str, subject: Codes) -> bool:
    """`matches` on codes: the same leftmost search, each place compared by slices (C speed), so a match
    costs at most one Python step per subject code and segment piece."""
    first, middle, last = _code_segments(pattern)
    if last is None:
        return first[0] == len(subject) and _codes_at(first, subject, 0)
    end = len(subject) - last[0]
    if first[0] > end or not _codes_at(first, subject, 0) or not _codes_at(last, subject, end):
        return False
    position = first[0]
    for segment in middle:
        while position + segment[0] <= end and not _codes_at(segment, subject, position):
            position += 1
        if position + segment[0] > end:
            return False
        position += segment[0]
    return True


@functools.lru_cache(maxsize=_CACHED_CODES)
def _code_segments(pattern: str) -> tuple[_CodeSegment, tuple[_CodeSegment, ...], _CodeSegment | None]:
    """As `_compiled`: the first segment, the non-empty middle ones, the last (None: no `*`)."""
    codes = _codes(pattern)
    cuts = [index for index, code in enumerate(codes) if code == _ANY_RUN]
    texts = [codes[start + 1 : end] for start, end in zip([-1, *cuts], [*cuts, len(codes)], strict=True)]
    if not cuts:
        return _code_segment(texts[0]), (), None
    return _code_segment(texts[0]), tuple(_code_segment(t) for t in texts[1:-1] if t), _code_segment(texts[-1])


def _code_segment(codes: Codes) -> _CodeSegment:
    cuts = [index for index, code in enumerate(codes) if code == _ANY_ONE]
    bounds = zip([-1, *cuts], [*cuts, len(codes)], strict=True)
    return len(codes), tuple((start + 1, codes[start + 1 : end]) for start, end in bounds if end > start + 1)


def _codes_at(segment: _CodeSegment, subject: Codes, start: int) -> bool:
    """Whether `segment` is the subject's codes at `start` (its `?`s any code)."""
    length, pieces = segment
    if start < 0 or start + length > len(subject):
        return False
    return all(subject[start + offset : start + offset + len(piece)] == piece for offset, piece in pieces)
