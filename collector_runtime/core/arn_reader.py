"""Read the names out of an ARN by its format, in time linear in the ARN per part of the format. Pure.

A format `arn:${Partition}:s3:::${BucketName}/${ObjectName}` reads as: Partition, Region and Account
any run without `:`; a name inside the format the shortest run without `:` (at least one character)
after which the rest can still match; a name at its very end anything (object keys, paths). A regex
of the same shape backtracks: an ARN a client sends (`package/a/a/a/.../a` against a format with five
names) took hours. Here the places from which the rest of the format can match are computed once, right
to left, so each choice is made without ever being retried.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

LOCATION = frozenset({"Partition", "Region", "Account"})
_LITERAL, _LOCATION, _INNER, _LAST = range(4)


class _Token(NamedTuple):
    kind: int
    text: str  # the literal, or the placeholder's name


def read_names(parts: tuple[tuple[str, str], ...], arn: str) -> dict[str, str] | None:
    """The names `arn` binds in the format of `parts` ((literal, placeholder after it or "")), or None if
    it is no ARN of that format. A name that appears twice binds its first place."""
    tokens = _tokens(parts)
    feasible = _feasible(tokens, arn)
    if 0 not in feasible[0]:
        return None
    bound: dict[str, str] = {}
    position = 0
    for index, token in enumerate(tokens):
        after = feasible[index + 1]
        if token.kind == _LITERAL:
            end = position + len(token.text)
        elif token.kind == _LAST:
            end = len(arn)
        else:
            end = _choose(arn, position, after, shortest=token.kind == _INNER)
        if token.kind != _LITERAL:
            bound.setdefault(token.text, arn[position:end])
        position = end
    return bound


@functools.lru_cache(maxsize=4096)
def _tokens(parts: tuple[tuple[str, str], ...]) -> tuple[_Token, ...]:
    tokens = []
    for index, (literal, name) in enumerate(parts):
        if literal:
            tokens.append(_Token(_LITERAL, literal))
        if name:
            at_end = index == len(parts) - 2 and not parts[-1][0]
            kind = _LOCATION if name in LOCATION else (_LAST if at_end else _INNER)
            tokens.append(_Token(kind, name))
    return tuple(tokens)


def _feasible(tokens: tuple[_Token, ...], arn: str) -> list[set[int]]:
    """For each token, the places in `arn` from which it and the ones after it match up to the end."""
    size = len(arn)
    feasible: list[set[int]] = [set() for _ in tokens] + [{size}]
    for index in range(len(tokens) - 1, -1, -1):
        token, after = tokens[index], feasible[index + 1]
        if token.kind == _LITERAL:
            length = len(token.text)
            here = {q - length for q in after if q >= length and arn.startswith(token.text, q - length)}
        elif token.kind == _LAST:
            here = set(range(size)) if size in after else set()
        else:
            here = _runs_reaching(arn, after, allow_empty=token.kind == _LOCATION)
        feasible[index] = here
    return feasible


def _runs_reaching(arn: str, after: set[int], *, allow_empty: bool) -> set[int]:
    """The places p from which a run without `:` (non-empty unless `allow_empty`) reaches one of `after`."""
    found = set()
    reaches = False  # whether some q in `after` lies in (p, the first ":" at or after p]
    for p in range(len(arn), -1, -1):
        if p < len(arn):
            reaches = False if arn[p] == ":" else reaches or (p + 1) in after
        if reaches or (allow_empty and p in after):
            found.add(p)
    return found


def _choose(arn: str, start: int, after: set[int], *, shortest: bool) -> int:
    """Where a placeholder starting at `start` ends: the first (shortest) or last feasible place of its run."""
    run_end = arn.find(":", start)
    run_end = len(arn) if run_end < 0 else run_end
    first = start + 1 if shortest else start
    places = range(first, run_end + 1) if shortest else range(run_end, first - 1, -1)
    return next(q for q in places if q in after)
