"""IAM's literal forms `${*}`, `${?}`, `${$}` (policy Version 2012-10-17): a name read from input is written
with them, and everything that reads resources as IAM patterns takes each for the one character it stands
for (the collector's own `*` and `?` stay wildcards)."""

from __future__ import annotations

import re

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.arns import covers, read_arn, without_covered
from collector_runtime.core.generalize import generalized
from collector_runtime.core.identifier_arns import copy_source, resource_arns
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.records import resources_named_in
from collector_runtime.core.wildcard import has_wildcard, literal, matches, wildcard_count
from collector_runtime.limits import MAX_NAMED_RESOURCE_WILDCARDS
from tests.conftest import observed

S3_OBJECT = "arn:${Partition}:s3:::${BucketName}/${ObjectName}"
ACCOUNT = "123456789012"


def reference(pattern: str, subject: str) -> bool:
    """IAM's reading of a pattern as a regex: `${*}`, `${?}`, `${$}` one literal character, `*` any run, `?` one
    character; the subject's literal forms read back as their characters."""
    pieces = re.findall(r"\$\{[*?$]\}|.", pattern, re.DOTALL)
    regex = "".join(
        re.escape(p[2]) if len(p) == 4 else ".*" if p == "*" else "." if p == "?" else re.escape(p) for p in pieces
    )
    plain = re.sub(r"\$\{([*?$])\}", r"\1", subject)
    return re.fullmatch(regex, plain, re.DOTALL) is not None


def test_literal_writes_the_forms_iam_reads_as_one_character() -> None:
    assert literal("reports/*.csv") == "reports/${*}.csv"
    assert literal("a?b$") == "a${?}b${$}"
    assert literal("${aws:username}") == "${$}{aws:username}"
    assert literal("plain/name") == "plain/name"


@given(st.text(alphabet="ab*?${}", max_size=12), st.text(alphabet="ab*?${}", max_size=12))
@settings(max_examples=2000)
def test_a_literal_pattern_matches_only_its_own_name(pattern_name: str, subject_name: str) -> None:
    assert matches(literal(pattern_name), literal(subject_name)) == (pattern_name == subject_name)


@given(st.text(alphabet="ab*?", max_size=8), st.text(alphabet="ab*?$", max_size=10))
@settings(max_examples=2000)
def test_a_wildcard_takes_a_literal_form_for_one_character(pattern: str, name: str) -> None:
    """`b/*` covers `b/${*}`; `?` matches the one character `${*}` stands for; never a part of it."""
    assert matches(pattern, literal(name)) == reference(pattern, literal(name))


def test_wildcards_and_literal_forms_side_by_side() -> None:
    assert matches("arn:aws:s3:::b/*", "arn:aws:s3:::b/reports/${*}.csv")
    assert matches("arn:aws:s3:::b/reports/?.csv", "arn:aws:s3:::b/reports/${*}.csv")
    assert matches("arn:aws:s3:::b/reports/${*}*", "arn:aws:s3:::b/reports/${*}.csv")
    assert not matches("arn:aws:s3:::b/reports/${*}.csv", "arn:aws:s3:::b/reports/x.csv")
    assert not matches("arn:aws:s3:::b/${$}?", "arn:aws:s3:::b/${?}")
    assert covers("arn:aws:s3:::b/${$}*", "arn:aws:s3:::b/${$}{x}")


def test_literal_names_are_not_wildcards_when_reducing_patterns() -> None:
    star, dollar = "arn:aws:s3:::b/${*}", "arn:aws:s3:::b/${$}"
    assert without_covered({star, dollar}) == {star, dollar}
    assert without_covered({star, "arn:aws:s3:::b/?"}) == {"arn:aws:s3:::b/?"}


def test_a_literal_name_binds_its_placeholder() -> None:
    found = read_arn("arn:aws:s3:::b/reports/${*}.csv", [S3_OBJECT])
    assert found is not None and found[1]["ObjectName"] == "reports/${*}.csv"


def test_wildcards_are_counted_outside_the_literal_forms() -> None:
    assert (has_wildcard("b/${*}${?}${$}"), wildcard_count("b/${*}${?}${$}")) == (False, 0)
    assert (has_wildcard("b/${${*}?}"), wildcard_count("b/${${*}?}*")) == (True, 2)


def test_a_name_of_many_stars_is_kept_as_one_resource(action_map: ActionMap) -> None:
    name = f"arn:aws:s3:::b/{literal('*' * (MAX_NAMED_RESOURCE_WILDCARDS + 1))}"
    aggregator = Aggregator(action_map)
    aggregator.add(observed("S3", "GetObject", resources=(name,)))
    assert aggregator.stats.dropped["resource_pattern"] == 0
    [usage] = aggregator.workloads["app"].usage.values()
    assert [scope[2] for scope in usage.scope_set] == [(name,)]


def test_a_resource_of_more_wildcards_than_any_real_one_is_still_dropped(action_map: ActionMap) -> None:
    """A record that names a pattern (an archive an older version wrote): the limit still applies."""
    aggregator = Aggregator(action_map)
    aggregator.add(
        observed("S3", "GetObject", resources=("arn:aws:s3:::b/" + "a*" * (MAX_NAMED_RESOURCE_WILDCARDS + 1),))
    )
    assert aggregator.stats.dropped["resource_pattern"] == 1


@pytest.mark.parametrize(
    ("arn", "pattern"),
    [
        ("arn:aws:s3:::b/${*}/2026-12-06/a.csv", "arn:aws:s3:::b/${*}/*"),
        ("arn:aws:s3:::b/x${?}2026-12-06.csv", "arn:aws:s3:::b/x${?}*"),
        (f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:a${{$}}b-AbCdEf", None),
    ],
)
def test_generalization_keeps_each_literal_form_whole(arn: str, pattern: str | None) -> None:
    found = generalized(arn)
    if pattern is None:
        assert found is not None and found[0].endswith("secret:a${$}b-??????")
    else:
        assert found is not None and found[0] == pattern


@given(st.text(alphabet="ab/-*?$0123456789", max_size=40))
@settings(max_examples=1000)
def test_a_generalized_literal_name_covers_the_name(key: str) -> None:
    arn = "arn:aws:s3:::b/" + literal(key)
    found = generalized(arn)
    assert found is None or matches(found[0], arn)


def test_identifiers_become_literal_names() -> None:
    formats = {"object": [S3_OBJECT], "topic": ["arn:${Partition}:sns:${Region}:${Account}:${TopicName}"]}
    found = resource_arns(formats, {"Bucket": "b", "Key": "a*"}, region="eu-west-1", account=ACCOUNT)
    assert found == ("arn:aws:s3:::b/a${*}",)
    topic = f"arn:aws:sns:eu-west-1:{ACCOUNT}:*"
    assert resource_arns(formats, {"TopicArn": topic}, region="eu-west-1", account=ACCOUNT) == (
        f"arn:aws:sns:eu-west-1:{ACCOUNT}:${{*}}",
    )
    source = copy_source("src/in%2A%3F", "eu-west-1")
    assert source is not None and source.arn == "arn:aws:s3:::src/in${*}${?}"
    assert resources_named_in("not authorized to perform: s3:GetObject on resource: arn:aws:s3:::b/$x") == (
        "arn:aws:s3:::b/${$}x",
    )


def test_the_collectors_own_wildcards_stay_wildcards() -> None:
    formats = {"secret": ["arn:${Partition}:secretsmanager:${Region}:${Account}:secret:${SecretId}"]}
    found = resource_arns(formats, {"Name": "db*"}, region="eu-west-1", account=None)
    assert found == ("arn:aws:secretsmanager:eu-west-1:*:secret:db${*}-??????",)


def test_names_with_literal_forms_are_cached_within_a_bound() -> None:
    """Matching caches a name's codes: hostile names (long, distinct, each with a literal form) must not make
    that cache hold hundreds of MiB (a tuple of ints held up to 36 bytes a character)."""
    import tracemalloc

    tracemalloc.start()
    try:
        for i in range(1_200):
            matches("arn:aws:s3:::b/*", f"arn:aws:s3:::b/{i}${{$}}" + "漢" * 2_000)
        held, _ = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert held < 32 * 2**20, f"{held / 2**20:.0f} MiB held"
