"""`compare` against roles in moto: inline and attached managed policies, Lambda roles, CI exit codes."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from collector_runtime.commands.cli import main
from tests.conftest import call, datagram

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest) -> Any:
    aws_managed = getattr(request, "param", False)  # loading AWS's managed policies takes moto seconds
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
        ("MOTO_IAM_LOAD_MANAGED_POLICIES", str(aws_managed)),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        iam = boto3.client("iam")
        iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=TRUST)
        iam.put_role_policy(
            RoleName="app-role",
            PolicyName="data",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [
                        {"Sid": "Tables", "Effect": "Allow", "Action": "dynamodb:*", "Resource": "*"},
                        {
                            "Sid": "Queue",
                            "Effect": "Allow",
                            "Action": ["sqs:SendMessage", "sqs:DeleteQueue"],
                            "Resource": "*",
                        },
                    ],
                }
            ),
        )
        managed = iam.create_policy(
            PolicyName="logs",
            PolicyDocument=json.dumps(
                {
                    "Version": "2012-10-17",
                    "Statement": [{"Effect": "Allow", "Action": "logs:PutLogEvents", "Resource": "*"}],
                }
            ),
        )
        iam.attach_role_policy(RoleName="app-role", PolicyArn=managed["Policy"]["Arn"])
        if aws_managed:
            iam.attach_role_policy(RoleName="app-role", PolicyArn="arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess")
        yield iam


def observed_dir(tmp_path: Path, *calls: tuple[str, str]) -> Path:
    out = tmp_path / "out"
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"\n".join(datagram(call(s, a, "app")) for s, a in calls) + b"\n")
    assert main(["replay", str(capture), "--output-dir", str(out), "--quiet"], {}, io.StringIO()) == 0
    return out


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, {}, out), out.getvalue()


@pytest.mark.parametrize("aws", [True], indirect=True)
def test_role_with_inline_and_managed_policies(tmp_path: Path, aws: Any) -> None:
    out = observed_dir(
        tmp_path, ("DynamoDB", "GetItem"), ("SQS", "SendMessage"), ("S3", "GetObject"), ("KMS", "Decrypt")
    )
    code, text = run(
        ["compare", "--workload", "app", "--output-dir", str(out), "--role", "app-role", "--format", "json"]
    )
    assert code == 0
    result = json.loads(text)
    assert result["schema"] == "csm-collector/compare/v1"
    assert set(result["granted"]["policies"]) == {
        "inline:data",
        "managed:arn:aws:iam::123456789012:policy/logs",
        "managed:arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
    }
    assert result["missing"] == [{"action": "kms:Decrypt", "explicitly_denied": False}]
    by_sid = {(e["source"], e["sid"]): e for e in result["excessive"]}
    tables = by_sid[("inline:data", "Tables")]["wildcards"][0]
    assert tables["used"] == ["dynamodb:GetItem"] and tables["unused_count"] > 40
    assert by_sid[("inline:data", "Queue")]["unused_actions"] == ["sqs:DeleteQueue"]
    assert by_sid[("managed:arn:aws:iam::123456789012:policy/logs", None)]["unused_actions"] == ["logs:PutLogEvents"]
    assert result["suggested_policy"] == json.loads((out / "policies" / "app.json").read_text())


def test_function_resolves_its_role_and_fail_on_gates_ci(tmp_path: Path, aws: Any) -> None:
    role_arn = aws.get_role(RoleName="app-role")["Role"]["Arn"]
    boto3.client("lambda").create_function(
        FunctionName="app-fn", Runtime="python3.12", Role=role_arn, Handler="h.handler", Code={"ZipFile": b"PK"}
    )
    out = observed_dir(tmp_path, ("DynamoDB", "GetItem"))
    code, text = run(["compare", "--workload", "app", "--output-dir", str(out), "--function", "app-fn"])
    assert code == 0 and "# Permissions of workload app" in text
    assert (
        run(
            ["compare", "--workload", "app", "--output-dir", str(out), "--function", "app-fn", "--fail-on", "excessive"]
        )[0]
        == 1
    )
    assert (
        run(["compare", "--workload", "app", "--output-dir", str(out), "--function", "app-fn", "--fail-on", "missing"])[
            0
        ]
        == 0
    )


def test_policy_files_offline(tmp_path: Path) -> None:
    out = observed_dir(tmp_path, ("SNS", "Publish"))
    granted = tmp_path / "granted.json"
    granted.write_text(
        json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "sns:Publish", "Resource": "*"}]}
        )
    )
    report = tmp_path / "report.md"
    code, _ = run(
        [
            "compare",
            "--workload",
            "app",
            "--output-dir",
            str(out),
            "--policy-file",
            str(granted),
            "--fail-on",
            "excessive",
            "--fail-on",
            "missing",
            "--report-file",
            str(report),
        ]
    )
    assert code == 0
    assert "granted but never used: **0**" in report.read_text()


def test_unknown_role_and_bad_files_are_clear_errors(
    tmp_path: Path, aws: Any, caplog: pytest.LogCaptureFixture
) -> None:
    out = observed_dir(tmp_path, ("SNS", "Publish"))
    assert run(["compare", "--workload", "app", "--output-dir", str(out), "--role", "no-such-role"])[0] == 1
    assert "IAM role 'no-such-role' not found" in caplog.text  # an AWS "not found" is a failure naming it
    assert run(["compare", "--workload", "nobody", "--output-dir", str(out), "--role", "app-role"])[0] == 2
    assert "cannot read a policy" in caplog.text


def test_observed_policy_from_ssm_and_s3_pointer(tmp_path: Path, aws: Any) -> None:
    out = observed_dir(tmp_path, ("DynamoDB", "GetItem"))
    policy = (out / "policies" / "app.json").read_text()
    ssm, s3 = boto3.client("ssm"), boto3.client("s3")
    ssm.put_parameter(Name="/csm/policies/app", Value=policy, Type="String")
    s3.create_bucket(Bucket="results")
    s3.put_object(Bucket="results", Key="p/app.json", Body=policy.encode())
    ssm.put_parameter(Name="/csm/policies/big", Value="s3://results/p/app.json", Type="String")
    for source in (
        ["--observed-ssm", "/csm/policies/app"],
        ["--observed-ssm", "/csm/policies/big"],
        ["--observed-s3", "s3://results/p/app.json"],
    ):
        code, text = run(["compare", *source, "--role", "app-role", "--format", "json"])
        assert code == 0 and json.loads(text)["observed"]["actions"] == ["dynamodb:GetItem"]
