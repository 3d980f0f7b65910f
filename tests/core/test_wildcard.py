"""The IAM wildcard matcher: agrees with a regex reference on small inputs, and stays fast on the hostile
patterns that made the regex backtrack for minutes (a test timeout is the assertion for a hang)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector_runtime.core.arns import covers, without_covered
from collector_runtime.core.wildcard import action_matches, matches


def reference(pattern: str, subject: str) -> bool:
    """What the collector did before: a regex made of the pattern (correct, but it backtracks)."""
    regex = "^" + re.escape(pattern).replace(r"\*", ".*").replace(r"\?", ".") + "$"
    return re.match(regex, subject, re.DOTALL) is not None


small_patterns = st.text(alphabet="ab*?:/", max_size=10)
small_subjects = st.text(alphabet="ab*?:/", max_size=12)


@given(small_patterns, small_subjects)
@settings(max_examples=3000)
def test_agrees_with_the_regex_reference(pattern: str, subject: str) -> None:
    assert matches(pattern, subject) == reference(pattern, subject)


@given(small_patterns, st.text(alphabet="aAbB:", max_size=10))
def test_actions_ignore_case_resources_do_not(pattern: str, subject: str) -> None:
    assert action_matches(pattern, subject) == reference(pattern.lower(), subject.lower())
    assert matches(pattern, subject) == reference(pattern, subject)


def test_case_rules_of_iam() -> None:
    assert action_matches("S3:get*", "s3:GetObject")
    assert not matches("arn:aws:s3:::Bucket/*", "arn:aws:s3:::bucket/key")
    assert matches("arn:aws:s3:::b?cket/*", "arn:aws:s3:::bucket/key")


hostile_patterns = st.builds(
    lambda unit, count, tail: unit * count + tail,
    st.sampled_from(["a*", "*a", "?*", "*?", "a?*", "**a", "a*?*"]),
    st.integers(min_value=50, max_value=2_000),
    st.sampled_from(["c", "x", "", "?c", "b*c"]),
)


@pytest.mark.timeout(60)
@given(hostile_patterns, st.integers(min_value=100, max_value=2_048), st.sampled_from("ab?*"))
@settings(max_examples=60, deadline=None)
def test_hostile_patterns_are_matched_in_bounded_time(pattern: str, length: int, char: str) -> None:
    subject = char * length
    assert isinstance(matches(pattern, subject), bool)
    assert isinstance(action_matches("s3:" + pattern, "s3:" + subject[:100]), bool)


@pytest.mark.timeout(20)
def test_the_issue_resource_against_another_resource() -> None:
    hostile = "arn:aws:s3:::b/" + "a*" * 500 + "c"
    plain = "arn:aws:s3:::b/" + "a" * 1_000
    assert not covers(hostile, plain)
    assert covers(hostile, plain + "c")
    assert without_covered({hostile, plain, "arn:aws:s3:::b/" + "a*" * 499 + "b"}) >= {hostile, plain}
