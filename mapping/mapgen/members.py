"""What an operation's input can carry: its top-level members, nested members, and the words of their names.

Works on botocore's model format (the JS v2 models share it; Go v1 models are converted to it).
A match deep inside a structure is reported by its top-level member (what `when` names), and counts as
always present only if every member on the way down is required.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any

WORD = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|\d+")
MAX_DEPTH = 4


def words(name: str) -> list[str]:
    """CamelCase words, lower-case, singular: `DataProtectionPolicy` -> data, protection, policy; `Layers` -> layer."""
    return [_singular(w.lower()) for w in WORD.findall(name[:1].upper() + name[1:])]


def _singular(word: str) -> str:
    if word.endswith("ies") and len(word) > 4:
        return word[:-3] + "y"
    if word.endswith("s") and not word.endswith(("ss", "us", "is", "as")) and len(word) > 3:
        return word[:-1]
    return word


@dataclass(frozen=True)
class Match:
    member: str  # the top-level input member
    name: str  # the matching member (the same, or one nested inside it)
    required: bool  # present in every request: required all the way down


MemberTest = Callable[[str, dict[str, Any]], bool]


class InputShape:
    def __init__(self, model: dict[str, Any], operation: dict[str, Any]) -> None:
        self._shapes: dict[str, Any] = model.get("shapes", {})
        name = operation.get("input", {}).get("shape")
        self._root: dict[str, Any] = self._shapes.get(name, {}) if name else {}

    @property
    def names(self) -> list[str]:
        return list(self._root.get("members", {}))

    def shape_of(self, member: str) -> dict[str, Any]:
        return self._shape(self._root.get("members", {}).get(member, {}))

    def is_required(self, member: str) -> bool:
        return member in self._root.get("required", [])

    def top_level(self, test: MemberTest) -> list[Match]:
        return [Match(n, n, self.is_required(n)) for n in self.names if test(n, self.shape_of(n))]

    def anywhere(self, test: MemberTest) -> list[Match]:
        """Matches at the top level, else inside the top-level members' structures, lists and maps."""
        direct = self.top_level(test)
        if direct:
            return direct
        found = []
        for top in self.names:
            for name, required in self._nested(self.shape_of(top), test, depth=1, seen=set()):
                found.append(Match(top, name, self.is_required(top) and required))
        return found

    def _nested(
        self, shape: dict[str, Any], test: MemberTest, depth: int, seen: set[int]
    ) -> Iterator[tuple[str, bool]]:
        if depth > MAX_DEPTH or id(shape) in seen:
            return
        seen = seen | {id(shape)}
        if shape.get("type") in ("list", "map"):
            inner = self._shape(shape.get("member") or shape.get("value") or {})
            yield from ((n, False) for n, _ in self._nested(inner, test, depth, seen))
            return
        for name, ref in shape.get("members", {}).items():
            child = self._shape(ref)
            required = name in shape.get("required", [])
            if test(name, child):
                yield name, required
            else:
                yield from ((n, required and r) for n, r in self._nested(child, test, depth + 1, seen))

    def _shape(self, ref: dict[str, Any]) -> dict[str, Any]:
        shape: dict[str, Any] = self._shapes.get(ref.get("shape", ""), {})
        return shape
