"""compare(): policy documents in, findings out. Each test reads as a small specification."""

from __future__ import annotations

import pytest

from collector_runtime.core.compare import ActionUniverse, GrantedPolicy, Observed, compare, markdown
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy_document import policy_problem


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
    assert result["summary"] == {"used": 1, "granted": 2, "unused_granted": 1, "excessive": 1, "missing": 0}


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


def test_a_wildcard_whose_every_granted_action_was_used_is_not_excessive(universe: ActionUniverse) -> None:
    every = sorted(universe.expand("sqs:SendMessage*") | universe.expand("sns:Publish*"))
    result = compare(observed(*every), granted(allow(["sqs:SendMessage*", "sns:Publish*"])), universe)
    assert result["excessive"] == [] and result["summary"]["unused_granted"] == 0
    assert "None." in markdown(result, "w").split("## Granted but never used")[1].split("##")[0]


def test_only_the_wildcards_with_unused_grants_are_listed(universe: ActionUniverse) -> None:
    result = compare(
        observed("sqs:SendMessage", "s3:GetObject"), granted(allow(["sqs:SendMessage*", "s3:*"])), universe
    )
    [entry] = result["excessive"]
    assert [w["pattern"] for w in entry["wildcards"]] == ["s3:*"]


def test_denied_actions_are_not_counted_as_granted_and_unused(universe: ActionUniverse) -> None:
    policy = granted(allow("s3:*"), {"Effect": "Deny", "Action": "s3:Delete*", "Resource": "*"})
    result = compare(observed("s3:GetObject"), policy, universe)
    [entry] = result["excessive"]
    assert entry["wildcards"][0]["unused_count"] == result["summary"]["unused_granted"]
    assert not any(a.startswith("s3:Delete") for a in result["unused_granted"])


SUMMARY_CASES = [
    (("s3:GetObject",), [allow(["s3:GetObject", "s3:PutObject"])]),
    (("s3:GetObject", "kms:Decrypt"), [allow("s3:*"), {"Effect": "Deny", "Action": "s3:Put*", "Resource": "*"}]),
    (("sqs:SendMessage",), [allow("sqs:SendMessage*")]),
    (("iam:PassRole", "s3:GetObject"), [{"Effect": "Allow", "NotAction": "iam:*", "Resource": "*"}]),
    (("s3:GetObject",), [allow(["s3:GetObject"]), allow("s3:Get*"), allow(["s3:GetObject", "s3:TeleportObject"])]),
    (("dynamodb:GetItem",), [allow("dynamodb:*", Condition={"Bool": {"aws:SecureTransport": "true"}})]),
    ((), [allow("*")]),
]


@pytest.mark.parametrize(("used", "statements"), SUMMARY_CASES)
def test_the_summary_counts_are_the_lengths_of_the_lists(
    universe: ActionUniverse,
    used: tuple[str, ...],
    statements: list[dict],  # type: ignore[type-arg]
) -> None:
    result = compare(observed(*used), granted(*statements), universe)
    summary = result["summary"]
    assert summary["used"] == len(result["observed"]["actions"])
    assert summary["missing"] == len(result["missing"])
    assert summary["excessive"] == len(result["excessive"])
    assert summary["unused_granted"] == len(result["unused_granted"])
    listed = {a for e in result["excessive"] for a in e["unused_actions"]}
    assert listed <= set(result["unused_granted"])
    for entry in result["excessive"]:  # every entry grants something unused; every wildcard shown does
        assert entry["unused_actions"] or entry["not_action_unused_count"] or entry["wildcards"]
        assert all(w["unused_count"] > 0 for w in entry["wildcards"])
    counted = len(listed) + sum(w["unused_count"] for e in result["excessive"] for w in e["wildcards"])
    counted += sum(e["not_action_unused_count"] for e in result["excessive"])
    assert (counted >= summary["unused_granted"]) and (counted == 0) == (summary["unused_granted"] == 0)
    assert f"granted but never used: **{summary['unused_granted']}**" in markdown(result, "w")


@pytest.mark.parametrize(
    ("document", "problem"),
    [
        ([], "not a JSON object"),
        ({"Version": "2012-10-17"}, "no Statement"),
        ({"Statement": "Allow everything"}, "Statement must be"),
        ({"Statement": [{"Effect": "Permit", "Action": "s3:*"}]}, "Effect must be Allow or Deny"),
        ({"Statement": [{"Effect": "Allow", "Resource": "*"}]}, "exactly one of Action and NotAction"),
        ({"Statement": [{"Effect": "Allow", "Action": ["s3:*", 3]}]}, "Action must be a string or a list"),
        ({"Statement": {"Effect": "Allow", "Action": "s3:*", "Resource": {"a": 1}}}, "Resource must be"),
    ],
)
def test_what_is_not_a_policy_document_is_named(document: object, problem: str) -> None:
    assert problem in (policy_problem(document) or "")


def test_policy_documents_pass() -> None:
    assert policy_problem({"Statement": {"Effect": "Deny", "NotAction": "iam:*", "Resource": "*"}}) is None
    assert policy_problem({"Version": "2012-10-17", "Statement": [allow(["s3:GetObject"])]}) is None
