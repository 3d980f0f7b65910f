"""Reading names out of ARNs by their format: the same answers as the regex it replaced, on ARNs of every
format of the Service Authorization Reference, and no backtracking on hostile ARNs (the timeout is the
assertion for a hang)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector_runtime.core.arns import arn_format, read_arn
from collector_runtime.data import load_action_map

_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
LOCATION = {"Partition", "Region", "Account"}


def reference(text: str, arn: str) -> dict[str, str] | None:
    """The regex reader the collector used before (correct on these small ARNs, but it backtracks)."""
    pieces, seen, position = ["^"], set(), 0
    placeholders = list(_PLACEHOLDER.finditer(text))
    for index, match in enumerate(placeholders):
        pieces.append(re.escape(text[position : match.start()]))
        name = match.group(1)
        last = index == len(placeholders) - 1 and match.end() == len(text)
        group = "[^:]*" if name in LOCATION else (".+" if last else "[^:]+?")
        pieces.append(f"(?P<{name}>{group})" if name not in seen else f"(?:{group})")
        seen.add(name)
        position = match.end()
    pieces.append(re.escape(text[position:]) + "$")
    found = re.match("".join(pieces), arn, re.DOTALL)
    return None if found is None else {k: v for k, v in found.groupdict().items() if v is not None}


def all_formats() -> list[str]:
    action_map = load_action_map()
    prefixes = {action.split(":", 1)[0] for action in action_map.all_actions()}
    return sorted({text for prefix in prefixes for texts in action_map.formats_of(prefix).values() for text in texts})


FORMATS = all_formats()
VALUES = st.text(alphabet="ab/:-*", min_size=0, max_size=6)


@st.composite
def arn_of_format(draw: st.DrawFn) -> tuple[str, str]:
    text = draw(st.sampled_from(FORMATS))
    arn = _PLACEHOLDER.sub(lambda _: draw(VALUES), text)
    if draw(st.booleans()):  # sometimes broken: a character changed
        at = draw(st.integers(min_value=0, max_value=len(arn)))
        arn = arn[:at] + draw(st.sampled_from(":/a")) + arn[at + 1 :]
    return text, arn


@given(arn_of_format())
@settings(max_examples=3000)
def test_reads_what_the_regex_read(case: tuple[str, str]) -> None:
    text, arn = case
    assert arn_format(text).read(arn) == reference(text, arn)


@pytest.mark.timeout(60)
def test_hostile_arns_against_every_format_take_linear_time() -> None:
    for text in FORMATS:
        head = text.replace("${Partition}", "aws").replace("${Region}", "us-east-1").replace("${Account}", "1" * 12)
        head = head.split("${")[0]
        for filler in ("a/", "a:", "/", "a*"):
            assert arn_format(text).read(head + filler * 6 + "!:") == reference(text, head + filler * 6 + "!:")
            found = read_arn(head + filler * 300 + "\n!", [text])  # the regex took hours on some of these
            assert found is None or found[0].text == text
