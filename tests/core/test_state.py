from __future__ import annotations

import json

import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy import PolicyBuilder, PolicyOptions
from collector_runtime.core.records import DENIED
from collector_runtime.core.state import StateSnapshots, restore
from tests.conftest import observed


def snapshot(aggregator: Aggregator, counters: dict[str, object] | None = None) -> dict[str, object]:
    return dict(json.loads(StateSnapshots().render(aggregator, counters or aggregator.stats.as_dict())))


def test_snapshot_restores_the_same_policies(aggregator: Aggregator, action_map: ActionMap) -> None:
    aggregator.add(observed("S3", "GetObject", region="eu-west-1", resources=("arn:aws:s3:::reports",)))
    aggregator.add(observed("Lambda", "CreateFunction", workload="deployer", account="123456789012"))
    aggregator.add(observed("S3", "PutObject", outcome=DENIED, denied_actions=("kms:Decrypt",)))
    aggregator.add(observed("S3", "PutObject", request_members=frozenset({"Tagging"})))
    aggregator.add(observed("S3", "PutObject", resources=("arn:aws:s3:::b/k",), request_members=frozenset({"ACL"})))
    saved = snapshot(aggregator)

    restored = Aggregator(action_map)
    restore(restored, saved)
    builder = PolicyBuilder(action_map, PolicyOptions())
    for name, workload in aggregator.workloads.items():
        expected = builder.document(builder.grants(workload))
        assert builder.document(builder.grants(restored.workloads[name])) == expected
        for key, usage in workload.usage.items():
            again = restored.workloads[name].usage[key]
            assert (list(again.scopes), again.scope_members) == (list(usage.scopes), usage.scope_members)
    assert snapshot(restored) == saved


def test_restore_adds_to_what_is_there_and_returns_the_counters(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "GetObject"))
    counters = restore(aggregator, snapshot(aggregator, {"calls": 1, "datagrams_received": 7}))
    assert aggregator.workloads["app"].usage[("S3", "GetObject")].calls == 2
    assert counters["datagrams_received"] == 7 and aggregator.stats.calls == 2


def test_unchanged_workloads_reuse_their_fragment(aggregator: Aggregator) -> None:
    snapshots = StateSnapshots()
    aggregator.add(observed("S3", "GetObject", workload="a"))
    aggregator.add(observed("S3", "GetObject", workload="b"))
    snapshots.render(aggregator, {})
    fragments = dict(snapshots._fragments)
    aggregator.add(observed("S3", "PutObject", workload="b"))
    text = snapshots.render(aggregator, {})
    assert snapshots._fragments["a"] is fragments["a"] and snapshots._fragments["b"] != fragments["b"]
    assert json.loads(text)["workloads"]["b"]["calls"][1][:3] == ["S3", "PutObject", 1]


def test_a_format_2_snapshot_is_read(aggregator: Aggregator) -> None:
    """What version 0.1 wrote: no scopes, S3 buckets per operation name, calls counted as ApiCall events."""
    legacy = {
        "format": 2,
        "call_fields": ["service", "api", "calls", "failed", "denied", "first_seen_ms", "last_seen_ms"],
        "stats": {"api_call_events": 3, "datagrams_received": 6},
        "workloads": {
            "app": {
                "calls": [["S3", "GetObject", 2, 0, 0, 1, 2], ["SQS", "ListQueues", 1, 1, 1, 3, 3]],
                "denied_actions": [{"action": "kms:Decrypt", "service": "SQS", "api": "ListQueues"}],
                "s3_buckets": {"GetObject": ["arn:aws:s3:::reports"]},
            }
        },
    }
    counters = restore(aggregator, legacy)
    usage = aggregator.workloads["app"].usage
    assert list(usage[("S3", "GetObject")].scopes) == [(None, None, ("arn:aws:s3:::reports",))]
    assert list(usage[("SQS", "ListQueues")].scopes) == [(None, None, ())]
    assert "kms:Decrypt" in aggregator.workloads["app"].actions
    assert (aggregator.stats.calls, counters["datagrams_received"]) == (3, 6)


def test_request_members_are_kept_per_scope(aggregator: Aggregator) -> None:
    aggregator.add(observed("S3", "PutObject", resources=("arn:aws:s3:::b/plain",)))
    aggregator.add(
        observed("S3", "PutObject", resources=("arn:aws:s3:::b/tagged",), request_members=frozenset({"Tagging"}))
    )
    row = snapshot(aggregator)["workloads"]["app"]["calls"][0]  # type: ignore[index]
    assert row[-1] == [[1, ["Tagging"]]]  # the second scope's request set Tagging


def test_unknown_format_is_refused(aggregator: Aggregator) -> None:
    with pytest.raises(ValueError, match="format"):
        restore(aggregator, {"format": 99})


GOOD_ROW = ["SQS", "SendMessage", 5, 0, 0]
FIELDS = ["service", "api", "calls", "failed", "denied"]


@pytest.mark.parametrize(
    "bad_row",
    [["S3", "PutObject", "x", 0, 0], ["S3", "PutObject", -1, 0, 0], [["S3"], "PutObject", 1, 0, 0], ["S3", "Put"]],
    ids=["not-a-count", "negative", "not-a-name", "short"],
)
def test_a_malformed_workload_merges_nothing(aggregator: Aggregator, bad_row: list[object]) -> None:
    """All or nothing: the snapshot is checked before any workload is merged."""
    state = {
        "format": 3,
        "call_fields": FIELDS,
        "stats": {"calls": 6},
        "workloads": {"first": {"calls": [GOOD_ROW]}, "second": {"calls": [GOOD_ROW, bad_row]}},
    }
    with pytest.raises(ValueError, match="second"):
        restore(aggregator, state)
    assert not aggregator.workloads and aggregator.stats.calls == 0


def test_counters_that_are_not_counts_are_left_out_and_named(aggregator: Aggregator) -> None:
    from collector_runtime.core.saved_state import parse_state

    stats = {
        "calls": 5,
        "calls_failed": "many",
        "calls_denied": 2**70,
        "internal_errors": [3],
        "calls_dropped": {"call_limit": 2, "bad key": 1},
        "unmapped_calls": [{"service": "X", "api": "Y", "calls": 1}, {"service": 1}],
    }
    saved = parse_state({"format": 3, "call_fields": FIELDS, "stats": stats, "workloads": {"w": {"calls": [GOOD_ROW]}}})
    assert saved.left_out == ["calls_failed", "calls_denied", "calls_dropped", "unmapped_calls", "internal_errors"]
    assert saved.internal_errors == 0 and saved.call_stats["calls_dropped"] == {"call_limit": 2}
    restore(aggregator, {"format": 3, "call_fields": FIELDS, "stats": stats, "workloads": {"w": {"calls": [GOOD_ROW]}}})
    counted = aggregator.stats.as_dict()
    assert (counted["calls"], counted["calls_failed"], counted["calls_denied"]) == (5, 0, 0)
    assert counted["unmapped_calls"] == [{"service": "X", "api": "Y", "calls": 1}]
    assert aggregator.workloads["w"].calls == 5


SCOPED_FIELDS = [*FIELDS, "scopes", "members"]


def _scoped_state(*rows: list[object]) -> dict[str, object]:
    return {"format": 3, "call_fields": SCOPED_FIELDS, "stats": {}, "workloads": {"w": {"calls": list(rows)}}}


def test_a_saved_scope_whose_region_no_region_could_have_is_left_out(
    aggregator: Aggregator, action_map: ActionMap
) -> None:
    """What a collector before the region check saved from a datagram with `Region: "*"` granted
    `arn:aws:ssm:*:...`; restored, the grant stays as narrow as the calls that were really observed."""
    from collector_runtime.core.saved_state import parse_state

    scopes = [["*", None, []], ["eu-west-1", None, []], ["us-east-1?", None, []]]
    row = ["SSM", "GetParameter", 3, 0, 0, scopes, [[0, ["WithDecryption"]], [1, ["Name"]]]]
    saved = parse_state(_scoped_state(row))
    assert (saved.scopes_left_out, saved.calls_left_out) == (2, 0)
    restore(aggregator, _scoped_state(row))
    usage = aggregator.workloads["w"].usage[("SSM", "GetParameter")]
    assert list(usage.scopes) == [("eu-west-1", None, ())]
    assert usage.scope_members == {("eu-west-1", None, ()): frozenset({"Name"})}
    builder = PolicyBuilder(action_map, PolicyOptions())
    granted = builder.grants(aggregator.workloads["w"]).observed
    assert granted["ssm:GetParameter"] == frozenset({"arn:aws:ssm:eu-west-1:*:parameter/*"})


@pytest.mark.parametrize("scopes", [[["*", None, []]], []], ids=["only-a-bad-region", "none"])
def test_a_saved_call_left_with_no_scope_is_not_restored(
    aggregator: Aggregator, action_map: ActionMap, scopes: list[object]
) -> None:
    """A call with no scope would be granted on every resource (`Resource: "*"`)."""
    from collector_runtime.core.saved_state import parse_state

    rows = [["SSM", "GetParameter", 3, 0, 0, scopes, []], ["SQS", "ListQueues", 1, 0, 0, [[None, None, []]], []]]
    assert parse_state(_scoped_state(*rows)).calls_left_out == 1
    restore(aggregator, _scoped_state(*rows))
    assert set(aggregator.workloads["w"].usage) == {("SQS", "ListQueues")}
    builder = PolicyBuilder(action_map, PolicyOptions())
    assert set(builder.grants(aggregator.workloads["w"]).observed) == {"sqs:ListQueues"}
