"""Every command follows the README's rule, as a user sees it from a real process: exit 0 success, 1 failure
(an AWS call failed, something named was not found, no credentials), 2 bad usage or input; an error is one
line on stderr, never a traceback."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.helpers import assert_one_error_line, run_cli, without_aws_credentials

pytestmark = pytest.mark.slow
NOT_A_POLICY = json.dumps({"Version": "2012-10-17", "Effect": "Allow", "Action": "s3:*"})


def test_listen_bad_usage_and_an_output_directory_that_cannot_be_created(tmp_path: Path) -> None:
    assert_one_error_line(run_cli("listen", "--host", "not-an-ip"), 2, "--host", "'not-an-ip' is not an IP address")
    assert_one_error_line(run_cli("listen", "--port", "70000"), 2, "port 70000 is not between 0 and 65535")
    (tmp_path / "file").write_text("")
    result = run_cli("listen", "--port", "0", "--output-dir", str(tmp_path / "file" / "out"))
    assert_one_error_line(result, 1, "cannot create the output directory")


def test_replay_of_a_missing_file_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("replay", str(tmp_path / "nope.jsonl"), "--output-dir", str(tmp_path / "out"))
    assert_one_error_line(result, 2, "cannot read", "nope.jsonl")


def test_report_without_an_archive_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("report", "--archive-dir", str(tmp_path / "none"), "--output-dir", str(tmp_path / "out"))
    assert_one_error_line(result, 2, "no archive directory")


def test_report_athena_aws_errors_are_one_line_failures(tmp_path: Path) -> None:
    out = str(tmp_path / "out")
    result = run_cli("report", "--athena", "--output-dir", out, env=without_aws_credentials())
    assert_one_error_line(result, 1, "no usable AWS credentials", "AWS_PROFILE")
    result = run_cli("report", "--athena", "--workgroup", "nope", "--output-dir", out, moto=True)
    assert_one_error_line(result, 1, "Athena (workgroup 'nope'", "not found")


def test_compare_not_found_is_a_failure_naming_it(tmp_path: Path) -> None:
    observed = ["--observed-s3", "s3://results/policies/app.json"]
    result = run_cli("compare", *observed, "--role", "no-such-role", moto=True)
    assert_one_error_line(result, 1, "IAM role 'no-such-role' not found")
    result = run_cli("compare", "--observed-s3", "s3://results/policies/nope.json", "--role", "app-role", moto=True)
    assert_one_error_line(result, 1, "S3 object s3://results/policies/nope.json not found", "NoSuchKey")
    result = run_cli("compare", "--observed-s3", "s3://no-bucket/app.json", "--role", "app-role", moto=True)
    assert_one_error_line(result, 1, "S3 object s3://no-bucket/app.json not found", "NoSuchBucket")
    result = run_cli("compare", "--observed-ssm", "/csm/policies/nope", "--role", "app-role", moto=True)
    assert_one_error_line(result, 1, "SSM parameter /csm/policies/nope not found")
    result = run_cli("compare", "--observed-ssm", "/csm/policies/app", "--function", "nope", moto=True)
    assert_one_error_line(result, 1, "Lambda function 'nope' not found")
    assert run_cli("compare", *observed, "--role", "app-role", moto=True).returncode == 0


def test_compare_inputs_that_are_no_policy_are_bad_input(tmp_path: Path) -> None:
    (tmp_path / "granted.json").write_text(NOT_A_POLICY)
    (tmp_path / "garbage.json").write_text("{not json")
    (tmp_path / "observed.json").write_text(json.dumps({"Statement": [{"Effect": "Allow", "Action": "s3:*"}]}))
    observed = ["--observed", str(tmp_path / "observed.json")]
    result = run_cli("compare", *observed, "--policy-file", str(tmp_path / "granted.json"))
    assert_one_error_line(result, 2, "granted.json is not an IAM policy document: no Statement")
    result = run_cli("compare", *observed, "--policy-file", str(tmp_path / "garbage.json"))
    assert_one_error_line(result, 2, "garbage.json is not JSON")
    result = run_cli("compare", "--observed", str(tmp_path / "granted.json"), "--policy-file", str(tmp_path / "x"))
    assert_one_error_line(result, 2, "granted.json is not an IAM policy document")
    result = run_cli("compare", *observed, "--role", "r", env=without_aws_credentials())
    assert_one_error_line(result, 1, "IAM role 'r': no usable AWS credentials")


def test_attach_and_detach(tmp_path: Path) -> None:
    result = run_cli("attach", "fn", "--ssm-prefix", "/nothing-here", moto=True)
    assert_one_error_line(result, 1, "SSM parameter /nothing-here/collector/address not found")
    assert_one_error_line(run_cli("attach", "fn", "--host", "10.0.0.5", moto=True), 1, "Lambda function 'fn' not found")
    assert_one_error_line(run_cli("detach", "fn", moto=True), 1, "Lambda function 'fn' not found")
    result = run_cli("attach", "a", "b", "--host", "10.0.0.5", env=without_aws_credentials())
    assert_one_error_line(result, 1, "no usable AWS credentials")  # once, not once per function
    assert_one_error_line(run_cli("attach", "fn"), 2, "one of the arguments --host --ssm-prefix is required")


def test_explain(tmp_path: Path) -> None:
    result = run_cli("explain", "--output-dir", str(tmp_path))
    assert_one_error_line(result, 2, "cannot read", "state.json")
    assert result.stdout == ""
    assert_one_error_line(run_cli("explain", "S3"), 2, "explain needs SERVICE and API")
    assert run_cli("explain", "S3", "NoSuchApi").returncode == 1  # unmapped: documented, the JSON says why


def test_demo_with_an_output_directory_that_cannot_be_created(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    result = run_cli("demo", "--output-dir", str(tmp_path / "file" / "out"))
    assert_one_error_line(result, 1, "cannot create the output directory")


def test_set_ini_and_unset_ini(tmp_path: Path) -> None:
    env = without_aws_credentials(AWS_CONFIG_FILE=str(tmp_path))  # a directory: bad input
    assert_one_error_line(run_cli("set-ini", env=env), 2, "cannot read", str(tmp_path), "Is a directory")
    (tmp_path / "file").write_text("")
    env = without_aws_credentials(AWS_CONFIG_FILE=str(tmp_path / "file" / "config"))  # cannot be written
    assert_one_error_line(run_cli("set-ini", env=env), 1, "cannot write", "config")
    config = tmp_path / "config"
    config.write_text("region = us-east-1\n[default]\n")
    env = without_aws_credentials(AWS_CONFIG_FILE=str(config))
    assert_one_error_line(run_cli("set-ini", env=env), 2, "not a valid AWS config file", "line 1")
    assert config.read_text() == "region = us-east-1\n[default]\n"
    config.write_text("[default]\n")
    assert_one_error_line(run_cli("unset-ini", "--profile", "ghost", env=env), 2, "no profile 'ghost'")
