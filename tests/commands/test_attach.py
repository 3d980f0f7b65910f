"""attach/detach against Lambda, EC2 and SSM in moto: environment merge, exact restore, warnings."""

from __future__ import annotations

import io
import json
from typing import Any

import boto3
import pytest
from moto import mock_aws

from collector_runtime.commands.cli import main

TRUST = json.dumps(
    {
        "Version": "2012-10-17",
        "Statement": [
            {"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}
        ],
    }
)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        monkeypatch.setenv(name, value)
    with mock_aws():
        ec2 = boto3.client("ec2")
        vpc = ec2.create_vpc(CidrBlock="10.20.0.0/16")["Vpc"]["VpcId"]
        subnet = ec2.create_subnet(VpcId=vpc, CidrBlock="10.20.1.0/24")["Subnet"]["SubnetId"]
        workload_sg = ec2.create_security_group(GroupName="workloads", Description="w", VpcId=vpc)["GroupId"]
        closed_sg = ec2.create_security_group(GroupName="closed", Description="c", VpcId=vpc)["GroupId"]
        ec2.revoke_security_group_egress(
            GroupId=closed_sg, IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]
        )
        role = boto3.client("iam").create_role(RoleName="fn", AssumeRolePolicyDocument=TRUST)["Role"]["Arn"]
        lam = boto3.client("lambda")

        def function(name: str, runtime: str, env: dict[str, str], groups: list[str] | None) -> None:
            extra = {"VpcConfig": {"SubnetIds": [subnet], "SecurityGroupIds": groups}} if groups else {}
            lam.create_function(
                FunctionName=name,
                Runtime=runtime,
                Role=role,
                Handler="h.handler",
                Code={"ZipFile": b"PK"},
                Environment={"Variables": env},
                **extra,
            )

        function("orders", "python3.12", {"TABLE": "orders", "AWS_CSM_PORT": "9999"}, [workload_sg])
        function("frontend", "nodejs20.x", {}, None)
        function("locked", "python3.12", {}, [closed_sg])
        ssm = boto3.client("ssm")
        ssm.put_parameter(Name="/csm-collector/collector/address", Value="10.20.1.50", Type="String")
        ssm.put_parameter(Name="/csm-collector/collector/port", Value="31000", Type="String")
        ssm.put_parameter(Name="/csm-collector/collector/workload-security-group", Value=workload_sg, Type="String")
        yield lam


def run(argv: list[str]) -> tuple[int, str]:
    out = io.StringIO()
    return main(argv, {}, out), out.getvalue()


def env(lam: Any, name: str) -> dict[str, str]:
    return lam.get_function_configuration(FunctionName=name)["Environment"]["Variables"]


def test_attach_then_detach_restores_the_exact_environment(aws: Any) -> None:
    before = env(aws, "orders")
    code, text = run(["attach", "orders", "--ssm-prefix", "/csm-collector"])
    assert code == 0 and "warning" not in text
    attached = env(aws, "orders")
    assert attached["TABLE"] == "orders"
    assert (
        attached["AWS_CSM_ENABLED"],
        attached["AWS_CSM_HOST"],
        attached["AWS_CSM_PORT"],
        attached["AWS_CSM_CLIENT_ID"],
    ) == ("true", "10.20.1.50", "31000", "orders")
    assert run(["detach", "orders"])[0] == 0
    assert env(aws, "orders") == before


def test_dry_run_changes_nothing(aws: Any) -> None:
    before = env(aws, "orders")
    code, text = run(["attach", "orders", "--host", "10.20.1.50", "--client-id", "svc", "--dry-run"])
    assert code == 0 and "would change" in text and "+ AWS_CSM_CLIENT_ID=svc" in text
    assert env(aws, "orders") == before


def test_warnings_for_functions_that_cannot_report(aws: Any) -> None:
    code, text = run(["attach", "frontend", "locked", "--ssm-prefix", "/csm-collector"])
    assert code == 0
    assert "frontend: Node.js 18+ runtimes bundle the JavaScript SDK v3" in text
    assert "frontend: not attached to a VPC" in text
    assert "locked: its security groups allow no UDP egress to 10.20.1.50:31000" in text
    assert "locked: it does not have the collector's workload security group" in text


def test_outside_the_vpc_and_errors(aws: Any, caplog: pytest.LogCaptureFixture) -> None:
    code, text = run(["attach", "orders", "--host", "192.168.7.7"])
    assert code == 0 and "outside its VPC" in text
    assert run(["attach", "no-such-function", "--host", "10.20.1.50"])[0] == 1
    assert run(["detach", "frontend"])[0] == 1 and "not attached" in caplog.text
    assert run(["attach", "orders", "--ssm-prefix", "/nothing-here"])[0] == 1  # not found: a failure
    assert "SSM parameter /nothing-here/collector/address not found" in caplog.text
