"""The oracle's requests (pure: no Node), and the licence boundary: the oracle stays a test-time tool."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from tests.oracle import OracleUnavailable, Request, evaluate, iam_oracle
from tests.oracle.iam_oracle import PACKAGE, REPO_ROOT

ME = "123456789012"
OTHER = "210987654321"


def test_resource_account_comes_from_the_arn_else_the_caller() -> None:
    assert Request("sqs:SendMessage", "arn:aws:sqs:eu-west-1:210987654321:q", ME).owner == OTHER
    assert Request("s3:GetObject", "arn:aws:s3:::b/k", ME).owner == ME
    assert Request("s3:GetObject", "arn:aws:s3:::b/k", ME, resource_account=OTHER).owner == OTHER
    assert Request("s3:ListAllMyBuckets", "*", ME).owner == ME
    with pytest.raises(ValueError, match="contradicts"):
        Request("sqs:SendMessage", "arn:aws:sqs:eu-west-1:210987654321:q", ME, resource_account=ME)
    with pytest.raises(ValueError, match="12 digits"):
        Request("s3:GetObject", "arn:aws:s3:::b/k", "1234")


def test_payload_derives_the_global_keys_and_lets_context_override_them() -> None:
    payload = Request("sqs:SendMessage", "arn:aws:sqs:eu-west-1:210987654321:q", ME).payload()
    assert payload["resource_account"] == OTHER
    assert payload["principal"] == "arn:aws:iam::123456789012:role/csm-oracle-caller"
    assert payload["context"] == {
        "aws:PrincipalArn": "arn:aws:iam::123456789012:role/csm-oracle-caller",
        "aws:PrincipalAccount": ME,
        "aws:ResourceAccount": OTHER,
        "aws:RequestedRegion": "eu-west-1",
    }
    s3 = Request("s3:GetObject", "arn:aws:s3:::b/k", ME, context={"aws:RequestedRegion": "us-east-1", "k": ("a", "b")})
    assert s3.payload()["context"]["aws:RequestedRegion"] == "us-east-1"
    assert s3.payload()["context"]["k"] == ["a", "b"]
    assert "aws:RequestedRegion" not in Request("s3:GetObject", "arn:aws:s3:::b/k", ME).payload()["context"]
    assert "resource_policy" not in s3.payload()


def test_the_evaluator_is_an_exactly_pinned_dev_dependency_only() -> None:
    manifest = json.loads((REPO_ROOT / "package.json").read_text())
    assert PACKAGE not in manifest.get("dependencies", {})
    assert manifest["devDependencies"][PACKAGE][0].isdigit()  # exact: no ^ or ~
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    addresses = {entry["resolved"] for entry in lock["packages"].values() if "resolved" in entry}
    assert all(address.startswith("https://registry.npmjs.org/") for address in addresses), addresses


def test_the_shipped_package_never_uses_the_oracle() -> None:
    for path in Path(REPO_ROOT / "collector_runtime").rglob("*"):
        if path.suffix in {".py", ".json", ".txt", ".md"}:
            text = path.read_text()
            assert "iam-simulate" not in text, path
            assert "tests.oracle" not in text, path


def test_without_node_or_the_package_it_fails_saying_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    request = [Request("s3:ListAllMyBuckets", "*", ME)]
    monkeypatch.setattr(shutil, "which", lambda name: None)
    with pytest.raises(OracleUnavailable, match="node is not on PATH"):
        evaluate({}, request)
    monkeypatch.undo()
    monkeypatch.setattr(iam_oracle, "REPO_ROOT", tmp_path)
    with pytest.raises(OracleUnavailable, match="run `make setup`"):
        evaluate({}, request)
