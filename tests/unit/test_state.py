from __future__ import annotations

import json

import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy import PolicyOptions, render_policy, workload_grants
from collector_runtime.core.state import restore, snapshot
from tests.conftest import attempt, call, datagram


def test_snapshot_restores_the_same_policies(aggregator: Aggregator, action_map: ActionMap) -> None:
    message = "not authorized to perform: kms:Decrypt on resource"
    aggregator.ingest(datagram(attempt("S3", "GetObject", Fqdn="reports.s3.amazonaws.com"), call("S3", "GetObject")))
    aggregator.ingest(datagram(call("Lambda", "CreateFunction", client_id="deployer")))
    aggregator.ingest(
        datagram(call("S3", "PutObject", FinalAwsException="AccessDenied", FinalAwsExceptionMessage=message))
    )
    saved = json.loads(json.dumps(snapshot(aggregator)))

    restored = Aggregator(action_map)
    restore(restored, saved)
    options = PolicyOptions()
    for name, workload in aggregator.workloads.items():
        expected = render_policy(workload_grants(workload, action_map, options), options)
        assert render_policy(workload_grants(restored.workloads[name], action_map, options), options) == expected
    assert json.loads(json.dumps(snapshot(restored))) == saved


def test_restore_adds_to_what_is_there(aggregator: Aggregator, action_map: ActionMap) -> None:
    aggregator.ingest(datagram(call("S3", "GetObject")))
    saved = snapshot(aggregator)
    restore(aggregator, saved)
    assert aggregator.workloads["app"].usage[("S3", "GetObject")].calls == 2


def test_unknown_format_is_refused(aggregator: Aggregator) -> None:
    with pytest.raises(ValueError, match="format"):
        restore(aggregator, {"format": 99})
