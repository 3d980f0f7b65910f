"""compare(): policy documents in, findings out. Each test reads as a small specification."""

from __future__ import annotations

import pytest

from collector_runtime.core.compare import ActionUniverse, GrantedPolicy, Observed, compare, markdown
from collector_runtime.core.mapping import ActionMap


@pytest.fixture(scope="module")
def universe(action_map: ActionMap) -> ActionUniverse:
    return ActionUniverse(action_map.all_actions())


def observed(*actions: str, dependent: tuple[str, ...] = ()) -> Observed:
    statements = [{"Sid": "ObservedCalls", "Effect": "Allow", "Action": list(actions), "Resource": "*"}]
    if dependent:
        statements.append({"Sid": "DependentActions", "Effect": "Allow", "Action": list(dependent), "Resource": "*"})
    return Observed.from_policy({"Version": "2012-10-17", "Statement": statements})


def granted(*statements: dict, source: str = "inline:app") -> list[GrantedPolicy]:  # type: ignore[type-arg]
    return [GrantedPolicy(source, {"Version": "2012-10-17", "Statement": list(statements)})]


def allow(actions: object, **extra: object) -> dict:  # type: ignore[type-arg]
    return {"Effect": "Allow", "Action": actions, "Resource": "*", **extra}


def test_exact_grant_used_and_unused(universe: ActionUniverse) -> None:
    result = compare(observed("s3:GetObject"), granted(allow(["s3:GetObject", "s3:PutObject"])), universe)
    assert result["missing"] == []
    assert [e["unused_actions"] for e in result["excessive"]] == [["s3:PutObject"]]
    assert result["summary"] == {"used": 1, "granted": 2, "unused_granted": 1, "missing": 0}


def test_wildcards_are_expanded_not_called_excess(universe: ActionUniverse) -> None:
    result = compare(observed("dynamodb:GetItem", "dynamodb:Query"), granted(allow("dynamodb:*")), universe)
    [wildcard] = result["excessive"][0]["wildcards"]
    assert wildcard["pattern"] == "dynamodb:*"
    assert wildcard["used"] == ["dynamodb:GetItem", "dynamodb:Query"]
    assert wildcard["unused_count"] == wildcard["grants"] - 2 > 40
    assert result["excessive"][0]["unused_actions"] == []


def test_partial_wildcards_and_case(universe: ActionUniverse) -> None:
    result = compare(observed("s3:GetObject"), granted(allow("S3:get*")), universe)
    assert result["missing"] == []
    assert result["excessive"][0]["wildcards"][0]["used"] == ["s3:GetObject"]


def test_missing_and_explicitly_denied(universe: ActionUniverse) -> None:
    policy = granted(allow("sqs:*"), {"Effect": "Deny", "Action": "sqs:DeleteQueue", "Resource": "*"})
    result = compare(observed("sqs:SendMessage", "sqs:DeleteQueue", "kms:Decrypt"), policy, universe)
    assert result["missing"] == [
        {"action": "kms:Decrypt", "explicitly_denied": False},
        {"action": "sqs:DeleteQueue", "explicitly_denied": True},
    ]


def test_not_action(universe: ActionUniverse) -> None:
    policy = granted({"Effect": "Allow", "NotAction": ["iam:*"], "Resource": "*"})
    result = compare(observed("s3:GetObject", "iam:PassRole"), policy, universe)
    assert result["missing"] == [{"action": "iam:PassRole", "explicitly_denied": False}]
    assert result["excessive"][0]["not_action_unused_count"] > 10_000


def test_several_policies_and_a_single_statement_object(universe: ActionUniverse) -> None:
    policies = [
        GrantedPolicy("inline:a", {"Statement": {"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}}),
        GrantedPolicy("managed:b", {"Statement": [allow(["sqs:SendMessage"])]}),
    ]
    result = compare(observed("s3:GetObject", "sqs:SendMessage"), policies, universe)
    assert result["missing"] == [] and result["excessive"] == []
    assert result["granted"]["policies"] == ["inline:a", "managed:b"]


def test_what_is_not_evaluated_is_said(universe: ActionUniverse) -> None:
    policy = granted(
        allow("s3:GetObject", Condition={"Bool": {"aws:SecureTransport": "true"}}),
        {"Effect": "Allow", "Action": "s3:PutObject", "Resource": "arn:aws:s3:::b/*"},
        {
            "Effect": "Deny",
            "Action": "s3:GetObject",
            "Resource": "*",
            "Condition": {"IpAddress": {"aws:SourceIp": "1.2.3.4"}},
        },
    )
    result = compare(observed("s3:GetObject", "s3:PutObject"), policy, universe, extra_notes=["boundary X"])
    notes = " ".join(result["not_evaluated"])
    assert "conditions are not evaluated" in notes and "resource scoping is not evaluated" in notes
    assert "boundary X" in notes and "SCPs" in notes
    assert result["missing"] == []  # a conditional Deny is not treated as denying


def test_dependent_actions_are_shown_but_never_missing(universe: ActionUniverse) -> None:
    result = compare(
        observed("lambda:CreateFunction", dependent=("iam:PassRole",)), granted(allow("lambda:*")), universe
    )
    assert result["missing"] == []
    assert result["observed"]["dependent_actions"] == ["iam:PassRole"]


def test_unknown_action_names_are_noted(universe: ActionUniverse) -> None:
    result = compare(observed("s3:GetObject"), granted(allow(["s3:GetObject", "s3:TeleportObject"])), universe)
    assert any("matches no known action" in n for n in result["not_evaluated"])


def test_markdown_has_every_section(universe: ActionUniverse) -> None:
    result = compare(observed("s3:GetObject", "kms:Decrypt"), granted(allow(["s3:*"])), universe)
    text = markdown(result, "workload web")
    for heading in (
        "# Permissions of workload web",
        "## Used but not granted",
        "## Granted but never used",
        "## Not evaluated",
        "## Suggested policy",
    ):
        assert heading in text
    assert "`kms:Decrypt`" in text and "`s3:*`" in text
