"""The flush renderer: only what changed is rendered, and rendering ahead changes nothing but when."""

from __future__ import annotations

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy import PolicyOptions
from collector_runtime.core.rendering import FlushRenderer
from tests.conftest import observed

COUNTERS = {"calls": 0}


def renderer(action_map: ActionMap) -> FlushRenderer:
    return FlushRenderer(action_map, PolicyOptions(), max_policy_chars=6144)


def load(aggregator: Aggregator, workloads: int = 5) -> None:
    for index in range(workloads):
        for operation in ("GetObject", "PutObject", "ListBuckets"):
            aggregator.add(observed("S3", operation, workload=f"w{index}", account="123456789012", region="eu-west-1"))


def test_a_flush_renders_only_the_workloads_that_changed(action_map: ActionMap, aggregator: Aggregator) -> None:
    load(aggregator)
    flush = renderer(action_map)
    first = flush.render(aggregator, COUNTERS, {})
    assert [policy.workload for policy in first.policies] == [f"w{i}" for i in range(5)]
    aggregator.add(observed("SQS", "SendMessage", workload="w3"))
    second = flush.render(aggregator, COUNTERS, {})
    assert [(p.workload, p.added) for p in second.policies] == [("w3", ["sqs:SendMessage"])]
    assert "policies/w0.json" not in second.files and "policies/w3.json" in second.files


def test_rendering_ahead_gives_the_same_files(action_map: ActionMap) -> None:
    plain, ahead = Aggregator(action_map), Aggregator(action_map)
    load(plain)
    load(ahead)
    ahead_renderer = renderer(action_map)
    assert ahead_renderer.prepare(ahead, lambda: True)
    assert ahead_renderer.rendered_ahead == [f"w{i}" for i in range(5)]
    files = ahead_renderer.render(ahead, COUNTERS, {}).files
    assert ahead_renderer.rendered_ahead == []
    assert files == renderer(action_map).render(plain, COUNTERS, {}).files


def test_rendering_ahead_stops_when_time_is_up_and_resumes(action_map: ActionMap, aggregator: Aggregator) -> None:
    load(aggregator)
    flush = renderer(action_map)
    budget = iter([True, True, False])
    assert not flush.prepare(aggregator, lambda: next(budget, False))
    assert flush.rendered_ahead == ["w0", "w1"]
    assert flush.prepare(aggregator, lambda: True)
    assert len(flush.rendered_ahead) == 5


def test_a_call_after_rendering_ahead_is_in_the_flush(action_map: ActionMap, aggregator: Aggregator) -> None:
    load(aggregator, workloads=1)
    flush = renderer(action_map)
    assert flush.prepare(aggregator, lambda: True)
    aggregator.add(observed("SQS", "SendMessage", workload="w0"))
    rendered = flush.render(aggregator, COUNTERS, {})
    (policy,) = rendered.policies
    assert "sqs:SendMessage" in policy.added
    assert "sqs:SendMessage" in (rendered.merged_text or "")  # policy.json prepared ahead is not reused
