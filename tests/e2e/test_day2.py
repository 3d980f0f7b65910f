"""A policy learned on day 1 (through the proxy, real boto3) allows day 2's run and nothing foreign; with
--exact-names it is yesterday's names only (day 2 denied): generalization is what makes the difference."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.day2_run import figures, learn_day1


@pytest.mark.timeout(600)
def test_the_day1_policy_allows_day2_and_denies_every_foreign_request(tmp_path: Path) -> None:
    policy = learn_day1(tmp_path)
    denied_day2, allowed_foreign, day2_total, foreign_total = figures(policy)
    assert day2_total == 8 and foreign_total == 19
    assert denied_day2 == [], denied_day2
    assert allowed_foreign == [], allowed_foreign


@pytest.mark.timeout(600)
def test_with_exact_names_day2_is_denied_where_names_are_generated(tmp_path: Path) -> None:
    denied_day2, allowed_foreign, _, _ = figures(learn_day1(tmp_path, "--exact-names"))
    assert {r.action for r in denied_day2} == {
        "s3:PutObject",
        "s3:GetObject",
        "secretsmanager:GetSecretValue",
        "logs:CreateLogStream",
        "logs:PutLogEvents",
    }
    assert allowed_foreign == []
