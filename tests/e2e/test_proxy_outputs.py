"""What the proxy run (proxy_run.py) wrote and published: no secret anywhere, records in the archive, S3 and
SSM, the CA's file modes, and the policies under the independent IAM evaluator (tests/oracle)."""

from __future__ import annotations

import json
import stat
from pathlib import Path

import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.state import restore
from collector_runtime.data import load_action_map
from tests.e2e.proxy_run import PREFIX, SECRET_KEY, SSM_PREFIX, ProxyRun
from tests.oracle import evaluate
from tests.policy_requests import cases
from tests.proxy_requests import ACCESS_KEY_ID, ACCOUNT, SESSION_TOKEN

pytestmark = pytest.mark.slow


def everything_written(run: ProxyRun) -> str:
    files = [p for p in sorted(run.out.rglob("*")) if p.is_file()]
    texts = [p.read_bytes().decode("utf-8", "replace") for p in files]
    return "\n".join([*texts, run.stdout, run.stderr, *run.published.keys(), *run.published.values()])


def test_no_secret_value_key_or_token_reaches_any_output(run: ProxyRun) -> None:
    text = everything_written(run)
    assert run.published and "w-boto3" in text  # the sweep looks at real outputs
    for needle in (run.secret, SESSION_TOKEN, ACCESS_KEY_ID, SECRET_KEY, run.results["denied_key_id"]):
        assert needle not in text
    for header in ("Authorization", "X-Amz-Security-Token", "Signature=", "Credential=", "Proxy-Authorization"):
        assert header.lower() not in text.lower()


def test_the_archive_holds_source_neutral_records_of_every_call(run: ProxyRun) -> None:
    lines = [
        json.loads(line)
        for key, text in run.published.items()
        if key.startswith(f"{PREFIX}archive/dt=")
        for line in text.splitlines()
    ]
    assert len(lines) == run.stats()["calls"]
    assert {line["source"] for line in lines} == {"proxy"}
    tagged = [line for line in lines if line["operation"] == "PutObject" and line["workload"] == "w-go"]
    assert "Tagging" in tagged[0]["request_members"]
    denied = [line for line in lines if line["workload"] == "w-denied"]
    assert {(d["outcome"], d["error_code"]) for d in denied} == {("denied", "AccessDenied")}
    assert {d["denied_actions"][0] for d in denied} == {"sqs:ListQueues", "dynamodb:DescribeTable"}


def test_policies_are_published_to_s3_and_ssm(run: ProxyRun) -> None:
    local = json.loads((run.out / "policies" / "w-go.json").read_text())
    assert json.loads(run.published[f"{PREFIX}policies/w-go.json"]) == local
    assert json.loads(run.published[f"{SSM_PREFIX}/policies/w-go"]) == local


def test_the_ca_certificate_is_published_beside_the_results_and_its_key_never(run: ProxyRun) -> None:
    assert run.published[f"{PREFIX}proxy-ca-cert.pem"] == (run.ca_dir / "mitmproxy-ca-cert.pem").read_text()
    assert not any("PRIVATE KEY" in text for text in run.published.values())


def test_the_ca_key_is_private(run: ProxyRun) -> None:
    assert stat.S_IMODE(run.ca_dir.stat().st_mode) == 0o700
    for name in ("mitmproxy-ca.pem", "mitmproxy-ca.p12"):
        assert stat.S_IMODE((run.ca_dir / name).stat().st_mode) == 0o600
    assert "PRIVATE KEY" not in (run.ca_dir / "ca-bundle.pem").read_text()


def test_every_policy_allows_its_calls_and_nothing_beside_them_under_the_evaluator(run: ProxyRun) -> None:
    aggregator = Aggregator(load_action_map())
    restore(aggregator, json.loads((run.out / "state.json").read_text()))
    checked: dict[str, int] = {}
    for name, workload in aggregator.workloads.items():
        policy = json.loads(Path(run.out / "policies" / f"{name}.json").read_text())
        found = list(cases(aggregator.action_map, workload, ACCOUNT))
        decisions = evaluate(policy, [case.request for case in found])
        wrong = [
            (c.why, c.request)
            for c, d in zip(found, decisions, strict=True)
            if d.identity_allowed != (c.why == "observed")
        ]
        assert not wrong, f"{name}: {json.dumps(policy)}\n" + "\n".join(map(str, wrong))
        for case in found:
            checked[case.why] = checked.get(case.why, 0) + 1
    assert checked["observed"] > 40
    assert {"other account", "other region", "other name", "passed to another service"} <= set(checked)
