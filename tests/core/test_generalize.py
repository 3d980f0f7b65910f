"""Generalization: observed names -> patterns that cover the next run's names and no other stem's.

Each scheme: day-1 names are generalized, day-2 names (as the generator would make them) are covered,
names of another stem, bucket or prefix are not. IAM matching here is fnmatchcase with IAM's two
wildcards (`*` any run, `?` one character; `[` is escaped since IAM has no character classes)."""

from __future__ import annotations

import re
import uuid
from fnmatch import fnmatchcase

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.generalize import decide, generalized
from collector_runtime.core.policy import PolicyBuilder, PolicyOptions
from tests.conftest import observed

ACCOUNT = "123456789012"
S3, SM = "arn:aws:s3:::", f"arn:aws:secretsmanager:eu-west-1:{ACCOUNT}:secret:"


def iam_matches(pattern: str, arn: str) -> bool:
    return fnmatchcase(arn, pattern.replace("[", "[[]"))


def pattern(arn: str) -> str:
    found = generalized(arn)
    assert found is not None, f"{arn} was not generalized"
    return found[0]


def terraform_id(second: int, counter: int) -> str:
    """helper/id PrefixedUniqueId's suffix: "20060102150405" and 4 digits of the second's fraction, then
    the counter as 8 hexadecimal digits (26 characters)."""
    return f"20261206{200000 + second:06d}{959 + counter:04d}{counter:08x}"


SCHEMES = [
    # (day-1 name, expected pattern, day-2 names, names it must not match)
    (
        f"{S3}acme-reports/reports/2026/12/06/{uuid.uuid4()}.csv",
        f"{S3}acme-reports/reports/*",
        [f"{S3}acme-reports/reports/2026/12/07/{uuid.uuid4()}.csv", f"{S3}acme-reports/reports/2027/01/01/x.csv"],
        [f"{S3}acme-reports/private/a.csv", f"{S3}acme-reportsx/reports/a.csv", f"{S3}other/reports/a.csv"],
    ),
    (
        f"{S3}terraform-{terraform_id(719, 0)}",
        f"{S3}terraform-" + "?" * 26,
        [f"{S3}terraform-{terraform_id(801, 3)}"],
        [f"{S3}terraform-state", f"{S3}acme-{terraform_id(719, 0)}", f"{S3}terraform-{terraform_id(1, 1)}x"],
    ),
    (
        f"{S3}app-logs-{terraform_id(719, 1)}/2026/12/06/events.json",
        f"{S3}app-logs-" + "?" * 26 + "/*",
        [f"{S3}app-logs-{terraform_id(5, 2)}/2026/12/07/events.json"],
        [f"{S3}app-logs-archive/2026/12/06/events.json", f"{S3}app-{terraform_id(5, 2)}/x"],
    ),
    (
        f"{S3}appstack-artifactsbucket-1a2b3c4d5e6f",
        f"{S3}appstack-artifactsbucket-*",
        [f"{S3}appstack-artifactsbucket-9z8y7x6w5v4u", f"{S3}appstack-artifactsbucket-abcdefghijk1"],
        [f"{S3}appstack-logsbucket-1a2b3c4d5e6f", f"{S3}otherstack-artifactsbucket-1a2b3c4d5e6f"],
    ),
    (
        f"arn:aws:iam::{ACCOUNT}:role/MyStack-MyRole-1A2B3C4D5E6F",
        f"arn:aws:iam::{ACCOUNT}:role/MyStack-MyRole-*",
        [f"arn:aws:iam::{ACCOUNT}:role/MyStack-MyRole-QWERTY123456"],
        [f"arn:aws:iam::{ACCOUNT}:role/MyStack-AdminRole-1A2B3C4D5E6F", f"arn:aws:iam::{ACCOUNT}:role/Other"],
    ),
    (
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:CdkStack-HelloHandler2E4FBA4D-Xy7QhsN0aZ1K",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:CdkStack-HelloHandler2E4FBA4D-*",
        [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:CdkStack-HelloHandler2E4FBA4D-AbCdEf123456"],
        [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:CdkStack-OtherHandler11111111-AbCdEf123456"],
    ),
    (
        f"{SM}acme/db-AbCdEf",
        f"{SM}acme/db-??????",
        [f"{SM}acme/db-Zy9Xw8"],
        [f"{SM}acme/db2-AbCdEf", f"{SM}acme/db-prod-AbCdEf", f"{SM}acme/dbx-AbCdEf"],
    ),
    (
        f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:acme-flow:{uuid.uuid4()}",
        f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:acme-flow:*",
        [f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:acme-flow:nightly-2026-12-07"],
        [f"arn:aws:states:eu-west-1:{ACCOUNT}:execution:other-flow:{uuid.uuid4()}"],
    ),
    (
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/acme-orders/stream/2026-12-06T20:07:19.959",
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/acme-orders/stream/*",
        [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/acme-orders/stream/2026-12-07T08:00:00.001"],
        [f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/acme-users/stream/2026-12-06T20:07:19.959"],
    ),
    (
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:acme-worker:7",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:acme-worker:*",
        [f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:acme-worker:8"],
        [
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:acme-admin:8",
            f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:acme-worker",
        ],
    ),
    (
        f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web:3",
        f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web:*",
        [f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web:4"],
        [
            f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/api:4",
            f"arn:aws:ecs:eu-west-1:{ACCOUNT}:task-definition/web2:4",
        ],
    ),
    (
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/acme:log-stream:2026/12/06/[$LATEST]{'ab12' * 8}",
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/acme:log-stream:*",
        [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/acme:log-stream:2026/12/07/[7]{'cd34' * 8}"],
        [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:/aws/lambda/other:log-stream:2026/12/07/x"],
    ),
    (
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:acme-app:log-stream:app/2026-12-06/{uuid.uuid4()}",
        f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:acme-app:log-stream:app/*",
        [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:acme-app:log-stream:app/2026-12-07/{uuid.uuid4()}"],
        [f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:acme-app:log-stream:audit/2026-12-07/x"],
    ),
    (
        f"{S3}acme/exports/export-1733512345.json",
        f"{S3}acme/exports/export-*",
        [f"{S3}acme/exports/export-1733598745.json"],
        [f"{S3}acme/exports/secret.json", f"{S3}acme/imports/export-1733598745.json"],
    ),
]


@pytest.mark.parametrize(("day1", "expected", "day2", "foreign"), SCHEMES, ids=[s[1] for s in SCHEMES])
def test_each_scheme_covers_the_next_run_and_no_other_stem(
    day1: str, expected: str, day2: list[str], foreign: list[str]
) -> None:
    found = pattern(day1)
    assert found == expected
    assert iam_matches(found, day1)
    assert all(iam_matches(found, name) for name in day2), day2
    assert not any(iam_matches(found, name) for name in foreign), [n for n in foreign if iam_matches(found, n)]


@pytest.mark.parametrize(
    "arn",
    [
        f"arn:aws:kms:eu-west-1:{ACCOUNT}:key/1234abcd-12ab-34cd-56ef-1234567890ab",  # a key id is the key
        f"{S3}acme-reports/reports/summary.csv",
        f"{S3}acme-reports",
        f"arn:aws:sqs:eu-west-1:{ACCOUNT}:acme-jobs",
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/acme-orders",
        f"arn:aws:dynamodb:eu-west-1:{ACCOUNT}:table/UploadsTableF68F3FF0",  # a CDK logical id is stable
        f"{S3}stackname-uploadsbucketf68f3ff0",
        f"arn:aws:iam::{ACCOUNT}:role/acme-deploy-role",
        f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:acme-worker:live",
        f"{SM}acme/db-??????",  # already a pattern
        f"{S3}acme/*",
        "arn:aws:s3:::acme-reports-productionlogs",  # an all-lower-case word is not a random suffix
    ],
)
def test_names_without_a_generated_part_stay_exact(arn: str) -> None:
    assert generalized(arn) is None


@pytest.mark.parametrize(
    ("arn", "expected"),
    [
        ("arn:aws:lambda:eu-west-1:*:function:worker:7", "arn:aws:lambda:eu-west-1:*:function:worker:*"),
        ("arn:aws:ecs:*:*:task-definition/web:3", "arn:aws:ecs:*:*:task-definition/web:*"),
        (
            f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:acme/db-AbCdEf",
            f"arn:aws:secretsmanager:*:{ACCOUNT}:secret:acme/db-??????",
        ),
    ],
)
def test_a_name_is_generalized_in_an_unknown_account_or_region(arn: str, expected: str) -> None:
    """An older access key id names no account (`*`): the `*` of the account was taken for a pattern, the name
    kept exact, and the next deployment's version (`worker:8`) denied."""
    assert pattern(arn) == expected


def test_names_sharing_a_stem_merge_into_one_pattern_with_their_evidence() -> None:
    keys = [f"{S3}acme-reports/reports/2026/12/{day:02d}/{uuid.uuid4()}.csv" for day in range(1, 48)]
    decision = decide([*keys, f"{S3}acme-reports/index.html"])
    [only] = decision.generalizations
    assert only.pattern == f"{S3}acme-reports/reports/*"
    assert only.count == 47
    assert list(only.examples) == sorted(keys)[:3]
    assert only.rules and "S3 object key" in only.rules[0]
    assert f"{S3}acme-reports/index.html" not in decision.patterns


_SEGMENT = st.text(alphabet=st.sampled_from("abcXYZ019-._[]$?*"), min_size=1, max_size=12)
_VOLATILE = st.one_of(
    st.uuids().map(str),
    st.dates().map(lambda d: d.strftime("%Y/%m/%d")),
    st.integers(min_value=10**9, max_value=10**13).map(str),
    st.binary(min_size=8, max_size=20).map(bytes.hex),
)


@given(
    st.lists(_SEGMENT, min_size=1, max_size=4),
    st.one_of(st.none(), _VOLATILE),
    st.sampled_from(
        [S3 + "bucket/", SM, f"arn:aws:logs:eu-west-1:{ACCOUNT}:log-group:g:log-stream:", "arn:aws:iam::1:role/"]
    ),
)
def test_every_observed_name_is_matched_by_its_pattern(segments: list[str], volatile: str | None, head: str) -> None:
    arn = head + "/".join(segments) + (f"/{volatile}" if volatile else "")
    decision = decide([arn])
    assert iam_matches(decision.patterns.get(arn, arn), arn)


def test_the_policy_grants_the_decided_patterns_and_exact_names_keeps_them(aggregator: Aggregator) -> None:
    bucket = "acme-reports"
    for day in (5, 6):
        key = f"reports/2026/12/{day:02d}/{uuid.uuid4()}.csv"
        aggregator.add(
            observed("S3", "PutObject", region="eu-west-1", account=ACCOUNT, resources=(f"{S3}{bucket}/{key}",))
        )
    workload = aggregator.workloads["app"]

    builder = PolicyBuilder(aggregator.action_map, PolicyOptions())
    grants = builder.grants(workload)
    assert grants.observed["s3:PutObject"] == frozenset({f"{S3}{bucket}/reports/*"})
    assert [g.count for g in grants.generalized] == [2]

    exact = PolicyBuilder(aggregator.action_map, PolicyOptions(exact_names=True)).grants(workload)
    assert len(exact.observed["s3:PutObject"]) == 2
    assert all(re.search(r"/reports/2026/12/0[56]/", name) for name in exact.observed["s3:PutObject"])
    assert exact.generalized == ()


def test_the_policy_generalizes_a_version_in_an_account_no_call_showed(aggregator: Aggregator) -> None:
    """A proxy caller with an older access key id and no STS call, or an OTLP span without `cloud.account.id`:
    its function ARN has a `*` account, and version 7 was granted exactly."""
    function = "arn:aws:lambda:eu-west-1:*:function:worker"
    aggregator.add(observed("Lambda", "Invoke", region="eu-west-1", resources=(f"{function}:7",)))
    grants = PolicyBuilder(aggregator.action_map, PolicyOptions()).grants(aggregator.workloads["app"])
    assert f"{function}:*" in grants.observed["lambda:InvokeFunction"]
    assert f"{function}:7" not in grants.observed["lambda:InvokeFunction"]
