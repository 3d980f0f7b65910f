"""Alerts from real boto3 traffic (CSM datagrams to a real collector), delivered to real targets: an
EventBridge bus in moto whose rule sends them to an SQS queue, a webhook on 127.0.0.1, alerts.jsonl.
moto enforces IAM for the traffic: the `denied` workload's calls are denied, the collector's own are not."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws
from moto.core.authorization import ActionAuthenticatorMixin

from collector_runtime.commands.demo import csm_session
from collector_runtime.commands.listen import build_service
from collector_runtime.data import load_action_map
from collector_runtime.outputs.metrics import prometheus_text
from collector_runtime.settings import AlertOptions, ListenOptions, OutputOptions
from collector_runtime.sources.csm.udp import UdpListener
from tests.helpers import serving, wait_for

REGION, BUS = "us-east-1", "alerts-bus"
PATTERN = {"source": ["csm-collector"]}  # the rule the CDK stack creates (stacks/alerting.py)


class Receiver:
    """An HTTP server on 127.0.0.1 that keeps every POSTed JSON body."""

    def __init__(self) -> None:
        self.bodies: list[dict[str, Any]] = []
        bodies = self.bodies

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers["Content-Length"])
                bodies.append(json.loads(self.rfile.read(length)))
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                return

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/hook?token=s3cr3t"


@contextmanager
def collector(options: ListenOptions) -> Iterator[Any]:
    listener = UdpListener("127.0.0.1", 0, receive_buffer=options.receive_buffer)
    service = build_service(options, io.StringIO(), load_action_map(), listener=listener)
    with serving(service):
        yield service


def seed() -> tuple[str, dict[str, str], str]:
    """The bus, a rule to a queue, a role, an all-allowed user (the workloads' and the collector's) and a
    user without policies (denied everything)."""
    events, sqs, iam = (boto3.client(s, region_name=REGION) for s in ("events", "sqs", "iam"))
    events.create_event_bus(Name=BUS)
    queue = sqs.create_queue(QueueName="alerts")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    events.put_rule(Name="alerts", EventBusName=BUS, EventPattern=json.dumps(PATTERN))
    events.put_targets(Rule="alerts", EventBusName=BUS, Targets=[{"Id": "q", "Arn": queue_arn}])
    grants = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:ListAllMyBuckets", "s3:PutObject"], "Resource": "*"}],
    }
    role = iam.create_role(RoleName="reader-role", AssumeRolePolicyDocument="{}")["Role"]["Arn"]
    iam.put_role_policy(RoleName="reader-role", PolicyName="app", PolicyDocument=json.dumps(grants))
    keys = {}
    for user, document in (
        ("admin", {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}),
        ("nobody", None),
    ):
        iam.create_user(UserName=user)
        if document:
            iam.put_user_policy(UserName=user, PolicyName="p", PolicyDocument=json.dumps(document))
        key = iam.create_access_key(UserName=user)["AccessKey"]
        keys[user] = key["AccessKeyId"], key["SecretAccessKey"]
    return queue, keys, role  # type: ignore[return-value]


@contextmanager
def iam_enforced() -> Iterator[None]:
    from moto import settings

    before = settings.INITIAL_NO_AUTH_ACTION_COUNT
    settings.INITIAL_NO_AUTH_ACTION_COUNT, ActionAuthenticatorMixin.request_count = 0, 0
    try:
        yield
    finally:
        settings.INITIAL_NO_AUTH_ACTION_COUNT = before


@pytest.mark.timeout(120)
def test_the_three_kinds_of_event_reach_every_target_once(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("AWS_PROFILE", "AWS_CSM_ENABLED", "AWS_CONFIG_FILE", "AWS_SESSION_TOKEN"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "seed")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "seed")
    monkeypatch.setenv("AWS_DEFAULT_REGION", REGION)
    receiver = Receiver()
    with mock_aws():
        queue, keys, role = seed()
        monkeypatch.setenv("AWS_ACCESS_KEY_ID", keys["admin"][0])  # the collector's own calls (PutEvents, IAM)
        monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", keys["admin"][1])
        alerts = AlertOptions(
            file=True, webhook=receiver.url, event_bus=BUS, role_map=(("reader", role),), drift_interval=0.2
        )
        options = ListenOptions(
            port=0, quiet=True, flush_interval=0.2, region=REGION, output=OutputOptions(tmp_path), alerts=alerts
        )
        with iam_enforced(), collector(options) as service:
            port = service.sources["csm"].address[1]
            reader = csm_session(
                port,
                "reader",
                REGION,
                access_key_id=keys["admin"][0],
                secret_access_key=keys["admin"][1],
                session_token=None,
            )
            for _ in range(3):  # the same calls again: no new alert
                reader.client("s3").list_buckets()
                reader.client("sqs").list_queues()
            denied = csm_session(
                port,
                "denied",
                REGION,
                access_key_id=keys["nobody"][0],
                secret_access_key=keys["nobody"][1],
                session_token=None,
            )
            for _ in range(2):
                with pytest.raises(Exception, match=r"AccessDenied|not authorized"):
                    denied.client("sqs").list_queues()
            assert wait_for(lambda: len(receiver.bodies) >= 5, timeout=30)
            assert not wait_for(lambda: len(receiver.bodies) > 5, timeout=1.0)  # several flushes: no duplicate
            stats = service.runtime_stats()["alerts"]
            metrics = prometheus_text(service.metrics_snapshot())
        got = boto3.client("sqs", region_name=REGION).receive_message(QueueUrl=queue, MaxNumberOfMessages=10)
        from_bus = [json.loads(m["Body"]) for m in got.get("Messages", [])]

    def kinds(events: list[dict[str, Any]]) -> list[tuple[str, ...]]:
        found = [
            (e["detail-type"], e["detail"]["workload"], e["detail"]["action"], e["detail"].get("finding", ""))
            for e in events
        ]
        return sorted(found)

    expected = [
        ("DeniedCall", "denied", "sqs:ListQueues", ""),
        ("Drift", "reader", "sqs:ListQueues", "missing"),
        ("NewAction", "denied", "sqs:ListQueues", ""),
        ("NewAction", "reader", "s3:ListAllMyBuckets", ""),
        ("NewAction", "reader", "sqs:ListQueues", ""),
    ]
    assert kinds(receiver.bodies) == expected
    file_events = [json.loads(line) for line in (tmp_path / "alerts.jsonl").read_text().splitlines()]
    assert file_events == receiver.bodies or sorted(map(json.dumps, file_events)) == sorted(
        map(json.dumps, receiver.bodies)
    )
    assert kinds(from_bus) == expected  # EventBridge -> rule -> queue
    for event in receiver.bodies:
        detail = event["detail"]
        assert event["source"] == "csm-collector" and detail["schema"] == "csm-collector/alert/v1"
        assert detail["first_seen"] and detail["explain"].startswith("csm-collector explain --output-dir ")
    everything = json.dumps(receiver.bodies) + (tmp_path / "alerts.jsonl").read_text() + json.dumps(from_bus)
    for secret in (*keys["admin"], *keys["nobody"], "s3cr3t"):
        assert secret not in everything
    assert stats["events"] == {"NewAction": 3, "DeniedCall": 1, "Drift": 1}
    assert stats["deduplicated"] >= 1  # the second denial
    assert stats["sinks"]["eventbridge"]["sent"] == 5 and stats["sinks"]["webhook"]["sent"] == 5
    assert 'csm_collector_alerts_total{kind="NewAction"} 3' in metrics.splitlines()
    assert 'csm_collector_alerts_sent_total{target="webhook"} 5' in metrics.splitlines()
    assert stats["drift"]["workloads"]["reader"]["missing"] == ["sqs:ListQueues"]
