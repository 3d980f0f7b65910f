"""The alert decisions (core/alerts.py, core/drift.py): pure, the clock passed in."""

from __future__ import annotations

import shlex

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.alerts import (
    DENIED_CALL,
    NEW_ACTION,
    Alert,
    DeniedCallDetector,
    Gate,
    NewActionDetector,
    TokenBucket,
)
from collector_runtime.core.compare import ActionUniverse, GrantedPolicy
from collector_runtime.core.drift import DriftInput, drift_alerts
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy import PolicyBuilder, PolicyOptions
from collector_runtime.core.records import DENIED
from tests.conftest import observed

BUCKET = "arn:aws:s3:::reports"


def document(aggregator: Aggregator, name: str = "app") -> dict:  # type: ignore[type-arg]
    builder = PolicyBuilder(aggregator.action_map, PolicyOptions())
    return builder.document(builder.grants(aggregator.workloads[name]))


def test_new_actions_after_the_learning_period_only(aggregator: Aggregator) -> None:
    detector = NewActionDetector(learning_period=60)
    aggregator.add(observed("S3", "ListBuckets", time_ms=1_000))
    assert detector.check(aggregator.workloads["app"], document(aggregator), now=100.0) == []  # learning
    aggregator.add(observed("SQS", "ListQueues", time_ms=2_000))
    assert detector.check(aggregator.workloads["app"], document(aggregator), now=159.0) == []  # still learning
    aggregator.add(observed("SNS", "ListTopics", time_ms=3_000))
    found = detector.check(aggregator.workloads["app"], document(aggregator), now=160.0)
    assert [(a.kind, a.action, a.resource, a.first_seen_ms) for a in found] == [
        (NEW_ACTION, "sns:ListTopics", "*", 3_000)
    ]
    assert detector.check(aggregator.workloads["app"], document(aggregator), now=200.0) == []  # known now


def test_a_new_object_under_a_generalized_prefix_is_no_news(aggregator: Aggregator) -> None:
    detector = NewActionDetector()
    for day in ("2026-12-01", "2026-12-02"):
        aggregator.add(observed("S3", "GetObject", resources=(f"{BUCKET}/daily/{day}.csv",)))
    first = detector.check(aggregator.workloads["app"], document(aggregator), now=0.0)
    assert [(a.action, a.resource) for a in first] == [("s3:GetObject", f"{BUCKET}/daily/*")]
    aggregator.add(observed("S3", "GetObject", resources=(f"{BUCKET}/daily/2026-12-03.csv",)))
    assert detector.check(aggregator.workloads["app"], document(aggregator), now=1.0) == []


def test_a_denied_call_names_the_action_and_resource_of_the_message(aggregator: Aggregator) -> None:
    key = "arn:aws:kms:eu-west-1:123456789012:key/abc"
    aggregator.add(
        observed("KMS", "Decrypt", outcome=DENIED, denied_actions=("kms:Decrypt",), resources=(key,), time_ms=5)
    )
    detector = DeniedCallDetector()
    found = detector.check(aggregator.workloads["app"])
    assert [(a.kind, a.action, a.resource, a.first_seen_ms) for a in found] == [(DENIED_CALL, "kms:Decrypt", key, 5)]
    assert detector.check(aggregator.workloads["app"]) == []  # nothing new
    aggregator.add(observed("KMS", "Decrypt", outcome=DENIED, denied_actions=("kms:Decrypt",), resources=(key,)))
    assert len(detector.check(aggregator.workloads["app"])) == 1  # denied again: the gate deduplicates it


def test_the_gate_deduplicates_and_rate_limits() -> None:
    gate = Gate(TokenBucket(rate=1.0, burst=2))
    alerts = [Alert(NEW_ACTION, "app", f"s3:Action{i}", "*", None) for i in range(4)]
    assert gate.admit([alerts[0], alerts[0], alerts[1], alerts[2]], now=0.0) == alerts[:2]
    assert gate.counts == {"deduplicated": 1, "rate_limited": 1}
    assert gate.admit([alerts[3]], now=0.5) == []  # half a token
    assert gate.admit([alerts[3]], now=1.0) == [alerts[3]]


def test_the_explain_hint_quotes_a_hostile_workload_name() -> None:
    name = "app; rm -rf / #$(x)"
    detail = Alert(NEW_ACTION, name, "s3:GetObject", "*", 0).detail("out dir")
    assert shlex.split(detail["explain"]) == ["csm-collector", "explain", "--output-dir", "out dir", "--workload", name]
    assert detail["first_seen"] == "1970-01-01T00:00:00.000Z"


def test_drift_reports_missing_at_once_and_unused_after_the_window(action_map: ActionMap) -> None:
    universe = ActionUniverse(action_map.all_actions())
    observed_policy = {
        "Version": "2012-10-17",
        "Statement": [{"Effect": "Allow", "Action": ["s3:GetObject", "sqs:SendMessage"], "Resource": BUCKET + "/*"}],
    }
    role = [GrantedPolicy("inline:p", {"Statement": [{"Effect": "Allow", "Action": "s3:*Object", "Resource": "*"}]})]
    item = DriftInput("app", "arn:aws:iam::123456789012:role/app", observed_policy, 0.0, {"sqs:SendMessage": 7})
    early, _ = drift_alerts(item, role, universe, now=10.0, unused_after=100.0)
    assert [(a.action, a.resource, dict(a.extra)["finding"], a.first_seen_ms) for a in early] == [
        ("sqs:SendMessage", BUCKET + "/*", "missing", 7)
    ]
    late, report = drift_alerts(item, role, universe, now=100.0, unused_after=100.0)
    unused = {a.action for a in late if dict(a.extra)["finding"] == "unused"}
    assert "s3:PutObject" in unused and "s3:GetObject" not in unused
    assert unused == set(report["unused_granted"])
