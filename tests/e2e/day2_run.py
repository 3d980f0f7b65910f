"""Day 1 / day 2: a policy learned from one run, evaluated against the next run's requests and foreign ones.

Day 1 runs tests/proxy_clients/day_client.py through `csm-collector proxy` (real boto3, moto_server
upstream) as workload `day-app`. The day-2 requests and the foreign ones are written here by hand from
AWS's Service Authorization Reference (the action and resource ARN each call needs), not from the
project's map: day 2 recreates the Terraform bucket and the secret (new generated suffixes), writes
tomorrow's keys and log stream, from fresh credentials (the policy is the role's: keys do not appear).
bench/day2.py prints the figures; tests/e2e/test_day2.py asserts them.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

import boto3

from tests.oracle.iam_oracle import Request, evaluate
from tests.proxy_harness import CLIENTS, base_env, moto_server, proxy_env, running_proxy
from tests.proxy_requests import ACCESS_KEY_ID, ACCOUNT

REGION, OTHER_ACCOUNT, WORKLOAD = "eu-west-1", "210987654321", "day-app"
TERRAFORM_DAY1 = "terraform-20261206200719959000000001"  # helper/id: timestamp to 1/10,000 s + counter
TERRAFORM_DAY2 = "terraform-20261207081502113400000003"


def learn_day1(tmp: Path, *flags: str) -> dict[str, Any]:
    """Run day 1 through the proxy; returns the workload's policy (policies/day-app.json)."""
    out = tmp / "out"
    with moto_server(ACCOUNT) as moto_port:
        moto = f"http://127.0.0.1:{moto_port}"
        admin = boto3.session.Session(aws_access_key_id=ACCESS_KEY_ID, aws_secret_access_key="x", region_name=REGION)
        s3 = admin.client("s3", endpoint_url=moto)
        for bucket in ("acme-reports", TERRAFORM_DAY1):
            s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": REGION})
        secret = admin.client("secretsmanager", endpoint_url=moto).create_secret(Name="acme/db", SecretString="s")
        queue = admin.client("sqs", endpoint_url=moto).create_queue(QueueName="acme-jobs")["QueueUrl"]
        admin.client("dynamodb", endpoint_url=moto).create_table(
            TableName="acme-orders",
            KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
            AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
            BillingMode="PAY_PER_REQUEST",
        )
        admin.client("logs", endpoint_url=moto).create_log_group(logGroupName="acme-app")
        queue_url = f"https://sqs.{REGION}.amazonaws.com/{ACCOUNT}/acme-jobs"  # the real host, as AWS names it
        assert queue.endswith("/acme-jobs")
        env = base_env() | {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": "x"}
        flags_all = ["--ca-dir", str(tmp / "ca"), "--upstream", moto, "--output-dir", str(out), "--quiet", *flags]
        with running_proxy(env, *flags_all) as proxy:
            client = proxy_env(env, "--port", str(proxy.port), "--ca-dir", str(tmp / "ca"), "--workload", WORKLOAD)
            import subprocess

            command = [sys.executable, str(CLIENTS / "day_client.py"), "2026-12-06", TERRAFORM_DAY1, secret["ARN"]]
            done = subprocess.run([*command, queue_url], env=client, capture_output=True, text=True, timeout=300)
            assert done.returncode == 0, done.stderr
    return dict(json.loads((out / "policies" / f"{WORKLOAD}.json").read_text()))


def _arn(service: str, resource: str, *, region: str = REGION, account: str = ACCOUNT) -> str:
    return f"arn:aws:{service}:{region}:{account}:{resource}"


def day2_requests() -> list[Request]:
    """Tomorrow's run: what each call needs (Service Authorization Reference)."""
    key = f"reports/2026/12/07/{uuid.uuid4()}.csv"
    stream = f"app/2026-12-07/{uuid.uuid4()}"
    needed = [
        ("s3:PutObject", f"arn:aws:s3:::acme-reports/{key}"),  # PutObject: object
        ("s3:GetObject", f"arn:aws:s3:::acme-reports/{key}"),  # GetObject: object
        ("s3:PutObject", f"arn:aws:s3:::{TERRAFORM_DAY2}/state/app.json"),  # the recreated Terraform bucket
        ("secretsmanager:GetSecretValue", _arn("secretsmanager", "secret:acme/db-Q7xZ2p")),  # recreated secret
        ("sqs:SendMessage", _arn("sqs", "acme-jobs")),  # SendMessage: queue
        ("dynamodb:PutItem", _arn("dynamodb", "table/acme-orders")),  # PutItem: table
        ("logs:CreateLogStream", _arn("logs", f"log-group:acme-app:log-stream:{stream}")),  # log-stream
        ("logs:PutLogEvents", _arn("logs", f"log-group:acme-app:log-stream:{stream}")),  # log-stream
    ]
    return [Request(action, resource, account=ACCOUNT) for action, resource in needed]


def foreign_requests() -> list[Request]:
    """What the workload never does: other buckets, prefixes, tables, queues, secrets, accounts, regions,
    actions."""
    other_stream = "log-group:acme-app:log-stream:audit/2026-12-07/x"
    requests = [
        ("s3:GetObject", "arn:aws:s3:::acme-private/reports/2026/12/07/a.csv"),  # another bucket
        ("s3:GetObject", "arn:aws:s3:::acme-reports/private/a.csv"),  # another prefix
        ("s3:PutObject", "arn:aws:s3:::terraform-state-prod/state/app.json"),  # another terraform- bucket
        ("s3:DeleteObject", "arn:aws:s3:::acme-reports/reports/2026/12/07/a.csv"),  # an action never used
        ("s3:PutBucketPolicy", "arn:aws:s3:::acme-reports"),
        ("dynamodb:PutItem", _arn("dynamodb", "table/acme-users")),  # another table
        ("dynamodb:DeleteTable", _arn("dynamodb", "table/acme-orders")),
        ("sqs:SendMessage", _arn("sqs", "acme-jobs-dlq")),  # another queue
        ("sqs:DeleteQueue", _arn("sqs", "acme-jobs")),
        ("secretsmanager:GetSecretValue", _arn("secretsmanager", "secret:acme/db2-AbCdEf")),  # shares a prefix
        ("secretsmanager:GetSecretValue", _arn("secretsmanager", "secret:acme/admin-AbCdEf")),
        ("secretsmanager:PutSecretValue", _arn("secretsmanager", "secret:acme/db-AbCdEf")),
        ("logs:PutLogEvents", _arn("logs", other_stream)),  # another stream prefix
        ("logs:PutLogEvents", _arn("logs", "log-group:acme-other:log-stream:app/2026-12-07/x")),
        ("iam:CreateUser", f"arn:aws:iam::{ACCOUNT}:user/intruder"),
    ]
    found = [Request(action, resource, account=ACCOUNT) for action, resource in requests]
    found += [  # the same queue and table in another account and another region
        Request("sqs:SendMessage", _arn("sqs", "acme-jobs", account=OTHER_ACCOUNT), account=ACCOUNT),
        Request("dynamodb:PutItem", _arn("dynamodb", "table/acme-orders", account=OTHER_ACCOUNT), account=ACCOUNT),
        Request("sqs:SendMessage", _arn("sqs", "acme-jobs", region="us-east-1"), account=ACCOUNT),
        Request("dynamodb:PutItem", _arn("dynamodb", "table/acme-orders", region="us-east-1"), account=ACCOUNT),
    ]
    return found


def figures(policy: dict[str, Any]) -> tuple[list[Request], list[Request], int, int]:
    """(day-2 requests denied, foreign requests allowed, day-2 total, foreign total), by the policy's own
    decision (its statements against action and resource: what an identity policy controls)."""
    day2, foreign = day2_requests(), foreign_requests()
    decisions = evaluate(policy, [*day2, *foreign])
    allowed = [d.identity_result == "Allowed" for d in decisions]
    denied_day2 = [r for r, ok in zip(day2, allowed[: len(day2)], strict=True) if not ok]
    allowed_foreign = [r for r, ok in zip(foreign, allowed[len(day2) :], strict=True) if ok]
    return denied_day2, allowed_foreign, len(day2), len(foreign)
