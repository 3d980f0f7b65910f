"""Credential rotation through `csm-collector proxy` (no --workload): a real boto3 client assumes one role
twice at moto_server (two different temporary ASIA keys, as every hour's credentials are) and calls SQS
with each; the proxy learns from the AssumeRole responses which role each key belongs to, so both keys'
calls are one workload, named by the role, and no workload is named by a key."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.proxy_harness import base_env, moto_server, proxy_env, running_proxy
from tests.proxy_requests import ACCESS_KEY_ID, ACCOUNT

CLIENT = f"""
import json, boto3
sts = boto3.client("sts", region_name="eu-west-1")
keys = []
for run in ("run-1", "run-2"):
    issued = sts.assume_role(RoleArn="arn:aws:iam::{ACCOUNT}:role/app-role", RoleSessionName=run)["Credentials"]
    session = boto3.session.Session(
        aws_access_key_id=issued["AccessKeyId"],
        aws_secret_access_key=issued["SecretAccessKey"],
        aws_session_token=issued["SessionToken"],
        region_name="eu-west-1",
    )
    session.client("sqs").list_queues()
    keys.append(issued["AccessKeyId"])
print(json.dumps({{"distinct": len(set(keys)), "temporary": all(k.startswith("ASIA") for k in keys)}}))
"""


@pytest.mark.timeout(240)
def test_two_temporary_keys_of_one_role_are_one_workload(tmp_path: Path) -> None:
    out, ca = tmp_path / "out", tmp_path / "ca"
    with moto_server(ACCOUNT) as moto_port:
        env = base_env() | {"AWS_ACCESS_KEY_ID": ACCESS_KEY_ID, "AWS_SECRET_ACCESS_KEY": "x"}
        flags = ["--ca-dir", str(ca), "--upstream", f"http://127.0.0.1:{moto_port}", "--output-dir", str(out)]
        with running_proxy(env, *flags, "--quiet") as proxy:
            client = proxy_env(env, "--port", str(proxy.port), "--ca-dir", str(ca))
            done = subprocess.run(
                [sys.executable, "-c", CLIENT], env=client, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"distinct": 2, "temporary": True}
    workloads = {path.stem for path in (out / "policies").glob("*.json")}
    assert workloads == {f"{ACCOUNT}-role-app-role", f"{ACCOUNT}-temporary-credentials"}  # the role; the caller
    role_policy = json.loads((out / "policies" / f"{ACCOUNT}-role-app-role.json").read_text())
    assert {a for s in role_policy["Statement"] for a in s["Action"]} == {"sqs:ListQueues"}
