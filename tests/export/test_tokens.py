"""The learning account, region and partition become tokens; other accounts and regions stay literal."""

from __future__ import annotations

import difflib
import json

from collector_runtime.core.export import FORMATS, export_policy, render, resolved_parts
from collector_runtime.core.export.learned import learned_context
from collector_runtime.core.export.tokens import Learned, Text, Token, resolve, tokenize
from collector_runtime.core.policy_size import MANAGED_POLICY_MAX_CHARS, policy_size

from .policies import (
    LEARNED,
    LEARNED_ACCOUNT,
    LEARNED_REGION,
    OTHER_ACCOUNT,
    POLICY,
    TARGET,
    TARGET_ACCOUNT,
    big_policy,
    in_target,
    merged,
)


def test_learned_values_become_tokens_and_resolve_to_the_target() -> None:
    tree = tokenize(POLICY, LEARNED, {})
    table = tree["Statement"][1]["Resource"][0]
    assert table == Text(("arn:", Token.PARTITION, ":dynamodb:", Token.REGION, ":", Token.ACCOUNT, ":table/orders"))
    assert resolve(tree, TARGET) == in_target(POLICY)
    assert resolve(tree, LEARNED.values()) == POLICY


def test_other_accounts_and_regions_stay_literal() -> None:
    tree = tokenize(POLICY, LEARNED, {})
    queue = tree["Statement"][2]["Resource"][0]
    elsewhere = tree["Statement"][4]["Resource"][0]
    assert OTHER_ACCOUNT in (queue.literal or "".join(p for p in queue.pieces if isinstance(p, str)))
    assert Token.ACCOUNT not in queue.tokens
    assert Token.REGION not in elsewhere.tokens and Token.ACCOUNT in elsewhere.tokens


def test_an_account_map_writes_the_target_account_literally() -> None:
    tree = tokenize(POLICY, LEARNED, {LEARNED_ACCOUNT: TARGET_ACCOUNT})
    resolved = resolve(tree, {Token.ACCOUNT: "000000000000", Token.REGION: LEARNED_REGION, Token.PARTITION: "aws"})
    text = json.dumps(resolved)
    assert TARGET_ACCOUNT in text and LEARNED_ACCOUNT not in text and "000000000000" not in text


def test_learned_context_reads_caller_accounts_and_the_one_region_from_state() -> None:
    state = {
        "workloads": {"app": {"calls": [["S3", "ListBuckets", 1, 0, 0, 0, 0, [["eu-west-1", LEARNED_ACCOUNT, []]]]]}}
    }
    assert learned_context(state, "app", POLICY) == Learned(frozenset({LEARNED_ACCOUNT}), "eu-west-1", "aws")
    two_regions = {
        "workloads": {
            "app": {"calls": [["S3", "X", 1, 0, 0, 0, 0, [["eu-west-1", None, []], ["us-east-1", None, []]]]]}
        }
    }
    assert learned_context(two_regions, "app", POLICY).region is None
    assert learned_context(None, "app", POLICY).accounts == frozenset({LEARNED_ACCOUNT})  # from the ARNs
    assert learned_context({"workloads": "junk"}, "app", {"Statement": "junk"}) == Learned(frozenset(), None, "aws")


def test_split_parts_stay_under_the_limit_in_any_account_and_region() -> None:
    policy = export_policy("big", big_policy(), LEARNED)
    assert len(policy.parts) > 1
    longest = {Token.ACCOUNT: "999999999999", Token.REGION: "ap-southeast-5", Token.PARTITION: "aws-us-gov"}
    for values in (TARGET, longest, LEARNED.values()):
        parts = resolved_parts(policy, values)
        assert all(policy_size(part) <= MANAGED_POLICY_MAX_CHARS for part in parts)
        assert merged(parts) == resolve(policy.document, values)


def test_re_exporting_after_more_learning_gives_a_small_diff() -> None:
    more = json.loads(json.dumps(POLICY))
    more["Statement"][1]["Action"].append("dynamodb:Query")
    for name in FORMATS:
        before = render(name, export_policy("orders-api", POLICY, LEARNED)).splitlines()
        after = render(name, export_policy("orders-api", more, LEARNED)).splitlines()
        changed = [line for line in difflib.unified_diff(before, after, lineterm="", n=0) if line[:1] in "+-"]
        assert len(changed) <= 5, (name, changed)  # the ---/+++ header, the added action (JSON: a comma)
        assert any("dynamodb:Query" in line for line in changed), name
