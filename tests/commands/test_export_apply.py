"""`export` and `apply` end to end: a policy learned in a sandbox account (111122223333) exported as code,
and applied to a role in another account (moto's 123456789012), then the role restored exactly."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from collector_runtime.commands.cli import main
from collector_runtime.core.export import FORMATS
from collector_runtime.outputs.role_policies import role_state
from tests.export.policies import LEARNED_ACCOUNT, OTHER_ACCOUNT, POLICY, big_policy
from tests.helpers import assert_one_error_line, run_cli

PRODUCTION = "123456789012"  # moto's account
WORKLOAD = "orders-api"
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}
BROAD = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"}]}
UNRELATED = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "kms:Decrypt", "Resource": "*"}]}


def _output_dir(root: Path, policy: dict[str, Any]) -> Path:
    """A collector output directory: the workload's policy and its calls made from the sandbox account."""
    (root / "policies").mkdir(parents=True)
    (root / "policies" / f"{WORKLOAD}.json").write_text(json.dumps(policy, indent=2))
    row = ["DynamoDB", "GetItem", 3, 0, 0, 1, 2, [["eu-west-1", LEARNED_ACCOUNT, []]]]
    (root / "state.json").write_text(json.dumps({"format": 3, "workloads": {WORKLOAD: {"calls": [row]}}}))
    return root


def _run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), environ={}, out=out), out.getvalue()


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam = boto3.client("iam")
        iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=json.dumps(TRUST))
        iam.put_role_policy(RoleName="app-role", PolicyName="inline-data", PolicyDocument=json.dumps(UNRELATED))
        for name, document in (("broad", BROAD), ("unrelated", UNRELATED)):
            arn = iam.create_policy(PolicyName=name, PolicyDocument=json.dumps(document))["Policy"]["Arn"]
            iam.attach_role_policy(RoleName="app-role", PolicyArn=arn)
        yield iam


def _everything(iam: Any) -> dict[str, Any]:
    """The role's policies, and every customer-managed policy of the account with all its versions."""
    local = [p["Arn"] for p in iam.list_policies(Scope="Local")["Policies"]]
    return {"role": role_state(iam, "app-role", local), "policies": sorted(local)}


def test_export_writes_every_format_for_every_workload(tmp_path: Path) -> None:
    output = _output_dir(tmp_path / "out", POLICY)
    for name, (suffix, _) in FORMATS.items():
        status, _ = _run("export", "--output-dir", str(output), "--format", name, "--out", str(tmp_path / name))
        assert status == 0
        expected = "orders_api.py" if suffix == ".py" else f"{WORKLOAD}{suffix}"
        assert [p.name for p in (tmp_path / name).iterdir()] == [expected]
    exported = (tmp_path / "json" / f"{WORKLOAD}.json").read_text()
    assert LEARNED_ACCOUNT not in exported and "${AWS::AccountId}" in exported and OTHER_ACCOUNT in exported


def test_export_maps_an_account_explicitly_and_writes_one_workload_to_standard_output(tmp_path: Path) -> None:
    output = _output_dir(tmp_path / "out", POLICY)
    status, text = _run("export", "--output-dir", str(output), "--account-map", f"{LEARNED_ACCOUNT}={PRODUCTION}")
    assert status == 0
    assert PRODUCTION in text and LEARNED_ACCOUNT not in text and "${AWS::AccountId}" not in text


def test_export_refuses_bad_input_with_exit_2(tmp_path: Path) -> None:
    output = _output_dir(tmp_path / "out", POLICY)
    assert _run("export", "--output-dir", str(output), "--workload", "nobody")[0] == 2
    assert _run("export", "--output-dir", str(output), "--account-map", "1=2")[0] == 2
    (output / "state.json").write_text(json.dumps({"workloads": {"a": {}, "b": {}}}))
    assert _run("export", "--output-dir", str(output))[0] == 2  # two workloads, no --out


def test_export_reads_the_results_bucket(tmp_path: Path, aws: Any) -> None:
    output = _output_dir(tmp_path / "out", POLICY)
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="results")
    for relative in (f"policies/{WORKLOAD}.json", "state.json"):
        s3.put_object(Bucket="results", Key=f"csm-collector/{relative}", Body=(output / relative).read_bytes())
    from_dir = _run("export", "--output-dir", str(output), "--format", "terraform")
    from_bucket = _run("export", "--s3-bucket", "results", "--format", "terraform")
    assert from_bucket == from_dir and from_dir[0] == 0


def test_apply_is_a_dry_run_by_default_and_prints_what_the_role_gains_and_loses(tmp_path: Path, aws: Any) -> None:
    output = _output_dir(tmp_path / "out", POLICY)
    before = _everything(aws)
    status, text = _run(
        "apply", "--output-dir", str(output), "--workload", WORKLOAD, "--role", "app-role", "--detach-replaced"
    )
    assert status == 0
    assert _everything(aws) == before
    assert "create the managed policy arn:aws:iam::123456789012:policy/csm-orders-api" in text
    assert "detach arn:aws:iam::123456789012:policy/broad" in text
    assert "unrelated" not in text  # it grants nothing the workload used: kept
    loses = next(line for line in text.splitlines() if line.startswith("the role loses"))
    assert "dynamodb:BatchGetItem" in loses and "kms:" not in loses  # broad's unused actions go, unrelated stays
    assert "still missing 0 actions" in text and "dry run" in text
    assert not list(Path.cwd().glob("csm-apply-*"))


def test_apply_then_restore_puts_the_role_back_exactly(tmp_path: Path, aws: Any) -> None:
    output = _output_dir(tmp_path / "out", big_policy())
    record = tmp_path / "record.json"
    before = _everything(aws)
    argv = ["apply", "--output-dir", str(output), "--workload", WORKLOAD, "--role", "app-role"]
    status, text = _run(*argv, "--detach-replaced", "--execute", "--record", str(record))
    assert status == 0, text
    attached = [p["PolicyName"] for p in aws.list_attached_role_policies(RoleName="app-role")["AttachedPolicies"]]
    parts = sorted(name for name in attached if name.startswith("csm-orders-api"))
    assert len(parts) > 1 and "broad" not in attached and "unrelated" in attached
    document = aws.get_policy_version(PolicyArn=f"arn:aws:iam::{PRODUCTION}:policy/{parts[0]}", VersionId="v1")[
        "PolicyVersion"
    ]["Document"]
    assert f":{PRODUCTION}:table/" in json.dumps(document) and LEARNED_ACCOUNT not in json.dumps(document)
    assert len(json.dumps(document, separators=(",", ":"))) <= 6144
    status, text = _run("apply", "--restore", str(record))
    assert status == 0 and "dry run" in text
    status, text = _run("apply", "--restore", str(record), "--execute")
    assert status == 0, text
    assert _everything(aws) == before


def test_apply_keeps_within_five_versions_and_restore_brings_the_old_ones_back(tmp_path: Path, aws: Any) -> None:
    arn = aws.create_policy(PolicyName="csm-orders-api", PolicyDocument=json.dumps(UNRELATED))["Policy"]["Arn"]
    for number in range(2, 6):
        version = {**UNRELATED, "Statement": [{**UNRELATED["Statement"][0], "Sid": f"V{number}"}]}
        aws.create_policy_version(PolicyArn=arn, PolicyDocument=json.dumps(version), SetAsDefault=number == 3)
    aws.attach_role_policy(RoleName="app-role", PolicyArn=arn)
    before = _versions(aws, arn)
    output = _output_dir(tmp_path / "out", POLICY)
    record = tmp_path / "record.json"
    argv = ["apply", "--output-dir", str(output), "--workload", WORKLOAD, "--role", "app-role", "--record", str(record)]
    assert _run(*argv, "--execute")[0] == 0
    after = _versions(aws, arn)
    assert len(after["documents"]) == 5 and "sqs:SendMessage" in after["default"]
    assert _run(*argv, "--execute")[1].endswith("nothing to change\n")  # the same policy again
    assert _run("apply", "--restore", str(record), "--execute")[0] == 0
    assert _versions(aws, arn) == before


def _versions(iam: Any, arn: str) -> dict[str, Any]:
    """The policy's version documents (IAM numbers a version added back anew) and its default one."""
    versions = iam.list_policy_versions(PolicyArn=arn)["Versions"]
    documents = [
        json.dumps(iam.get_policy_version(PolicyArn=arn, VersionId=v["VersionId"])["PolicyVersion"]["Document"])
        for v in versions
    ]
    default = next(d for d, v in zip(documents, versions, strict=True) if v["IsDefaultVersion"])
    return {"documents": sorted(documents), "default": default}


def test_apply_refuses_a_record_that_is_not_one(tmp_path: Path, aws: Any) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("[1]")
    assert _run("apply", "--restore", str(bad))[0] == 2
    assert _run("apply", "--workload", WORKLOAD)[0] == 2  # no --role


def test_compare_maps_the_learned_account_to_the_roles(tmp_path: Path, aws: Any) -> None:
    output = _output_dir(tmp_path / "out", POLICY)
    argv = ["compare", "--workload", WORKLOAD, "--output-dir", str(output), "--role", "app-role", "--format", "json"]
    status, text = _run(*argv, "--account-map", f"{LEARNED_ACCOUNT}={PRODUCTION}")
    report = json.loads(text)
    suggested = json.dumps(report["suggested_policy"])
    assert status == 0 and PRODUCTION in suggested and LEARNED_ACCOUNT not in suggested


def test_errors_are_one_line_with_the_readmes_exit_status(tmp_path: Path) -> None:
    output = _output_dir(tmp_path / "out", POLICY)
    assert_one_error_line(run_cli("export", "--output-dir", str(output), "--workload", "nobody"), 2, "nobody")
    missing_role = run_cli(
        "apply", "--output-dir", str(output), "--workload", WORKLOAD, "--role", "no-such-role", moto=True
    )
    assert_one_error_line(missing_role, 1, "no-such-role", "not found")


def test_a_statement_terraform_cannot_express_is_bad_input(tmp_path: Path) -> None:
    odd = {**POLICY, "Statement": [{**POLICY["Statement"][0], "Unknown": "x"}]}
    output = _output_dir(tmp_path / "out", odd)
    assert _run("export", "--output-dir", str(output), "--format", "terraform")[0] == 2
    assert _run("export", "--output-dir", str(output), "--format", "json")[0] == 0


def test_a_restore_record_nested_too_deeply_is_bad_input(tmp_path: Path) -> None:
    """apply --restore reads a file the user hands it: bounded like every other input (one line, exit 2)."""
    record = tmp_path / "record.json"
    record.write_text("[" * 200_000)
    result = run_cli("apply", "--role", "r", "--restore", str(record))
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "nests deeper" in result.stderr
