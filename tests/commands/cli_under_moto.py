"""Run the command line in this process with AWS replaced by moto (`mock_aws`), a few resources in place:

    python -m tests.commands.cli_under_moto COMMAND ARGS...

The S3 bucket `results` holding `policies/app.json` (an observed policy), the IAM role `app-role` with an
inline policy, the SSM parameter `/csm/policies/app`. Fake credentials unless the environment has its own.
So a test sees what a user sees: the process's exit status and its stderr.
"""

from __future__ import annotations

import json
import os
import sys
from typing import Any

POLICY = {
    "Version": "2012-10-17",
    "Statement": [{"Sid": "ObservedCalls", "Effect": "Allow", "Action": ["s3:GetObject"], "Resource": "*"}],
}
TRUST = {
    "Version": "2012-10-17",
    "Statement": [{"Effect": "Allow", "Principal": {"Service": "lambda.amazonaws.com"}, "Action": "sts:AssumeRole"}],
}


def _resources(boto3: Any) -> None:
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket="results")
    s3.put_object(Bucket="results", Key="policies/app.json", Body=json.dumps(POLICY).encode())
    iam = boto3.client("iam")
    iam.create_role(RoleName="app-role", AssumeRolePolicyDocument=json.dumps(TRUST))
    iam.put_role_policy(RoleName="app-role", PolicyName="data", PolicyDocument=json.dumps(POLICY))
    boto3.client("ssm").put_parameter(Name="/csm/policies/app", Value=json.dumps(POLICY), Type="String")


def main() -> int:
    for name, value in (
        ("AWS_ACCESS_KEY_ID", "testing"),
        ("AWS_SECRET_ACCESS_KEY", "testing"),
        ("AWS_DEFAULT_REGION", "us-east-1"),
    ):
        os.environ.setdefault(name, value)
    import boto3
    from moto import mock_aws

    from collector_runtime.commands.cli import main as cli

    with mock_aws():
        _resources(boto3)
        return cli(sys.argv[1:])


if __name__ == "__main__":
    sys.exit(main())
