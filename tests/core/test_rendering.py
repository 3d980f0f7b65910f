"""The flush renderer: only what changed is rendered, and rendering ahead changes nothing but when."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any

from collector_runtime.commands.explain import explain_output
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy import PolicyOptions
from collector_runtime.core.rendering import STREAM_STILL_LOOKS, FlushRenderer
from collector_runtime.core.state import restore
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


def test_during_a_stream_a_policy_is_rendered_ahead_once_it_stands_still_then_policy_json(
    action_map: ActionMap,
) -> None:
    plain, streamed = Aggregator(action_map), Aggregator(action_map)
    load(plain)
    load(streamed)
    flush = renderer(action_map)
    for _ in range(STREAM_STILL_LOOKS):
        assert not flush.prepare(streamed, lambda: True, state=False)  # changed not long ago: not yet
    assert flush.rendered_ahead == []
    assert flush.prepare(streamed, lambda: True, state=False)  # it stood still: rendered, and policy.json
    assert flush.rendered_ahead == [f"w{i}" for i in range(5)]
    assert flush.render(streamed, COUNTERS, {}).files == renderer(action_map).render(plain, COUNTERS, {}).files


def test_during_a_stream_a_policy_that_changes_at_every_look_is_left_to_the_flush(
    action_map: ActionMap, aggregator: Aggregator
) -> None:
    load(aggregator, workloads=2)
    flush = renderer(action_map)
    for index in range(1, 2 * STREAM_STILL_LOOKS + 2):
        queue = f"arn:aws:sqs:eu-west-1:123456789012:jobs-{index}"  # a new queue at every look: w1 keeps changing
        aggregator.add(observed("SQS", "SendMessage", workload="w1", account="123456789012", resources=(queue,)))
        assert not flush.prepare(aggregator, lambda: True, state=False)
    assert flush.rendered_ahead == ["w0"]
    assert f"jobs-{2 * STREAM_STILL_LOOKS + 1}" in str(flush.render(aggregator, COUNTERS, {}).files["policies/w1.json"])


def test_a_call_that_only_adds_to_the_counters_renders_no_policy_again(
    action_map: ActionMap, aggregator: Aggregator
) -> None:
    load(aggregator)
    flush = renderer(action_map)
    assert [flush.prepare(aggregator, lambda: True, state=False) for _ in range(STREAM_STILL_LOOKS + 1)][-1]
    built: list[str] = []
    grants = flush.builder.grants
    flush.builder.grants = lambda workload: built.append(workload.name) or grants(workload)  # type: ignore[method-assign]
    for index in range(5):  # the same calls again, in the same scope: counters only
        aggregator.add(observed("S3", "GetObject", workload=f"w{index}", account="123456789012", region="eu-west-1"))
    assert flush.prepare(aggregator, lambda: True, state=False)
    aggregator.add(observed("SQS", "SendMessage", workload="w3"))  # a new operation: its policy changes
    for _ in range(STREAM_STILL_LOOKS):
        assert not flush.prepare(aggregator, lambda: True, state=False)
    assert flush.prepare(aggregator, lambda: True, state=False)
    assert built == ["w3"]
    state = json.loads(flush.render(aggregator, COUNTERS, {}).state_text)
    assert state["workloads"]["w0"]["calls"][0][:3] == ["S3", "GetObject", 2]  # counted at the flush


def test_stats_explain_each_generalized_resource(action_map: ActionMap, aggregator: Aggregator) -> None:
    for day in range(1, 5):
        key = f"arn:aws:s3:::acme-reports/reports/2026/12/{day:02d}/{day}a2b3c4d-1111-4222-8333-444455556666.csv"
        aggregator.add(observed("S3", "PutObject", account="123456789012", region="eu-west-1", resources=(key,)))
    stats = json.loads(renderer(action_map).render(aggregator, COUNTERS, {}).stats_text)
    [item] = stats["workloads"]["app"]["generalized"]
    assert item["pattern"] == "arn:aws:s3:::acme-reports/reports/*" and item["from"] == 4
    assert len(item["examples"]) == 3 and item["examples"][0].startswith(
        "arn:aws:s3:::acme-reports/reports/2026/12/01/"
    )
    assert "S3 object key" in item["why"][0]


def test_explain_output_dir_shows_each_generalized_pattern_and_its_examples(
    action_map: ActionMap, aggregator: Aggregator, tmp_path: Path
) -> None:
    key = "arn:aws:s3:::acme-reports/reports/2026/12/06/9f1c2a3b-1111-4222-8333-444455556666.csv"
    aggregator.add(observed("S3", "PutObject", account="123456789012", region="eu-west-1", resources=(key,)))
    for name, text in renderer(action_map).render(aggregator, COUNTERS, {}).files.items():
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_text(text or "")
    out = io.StringIO()
    assert explain_output(action_map, tmp_path, None, out) == 0
    assert "granted arn:aws:s3:::acme-reports/reports/* (S3 object key" in out.getvalue()
    assert f"from 1 names, e.g. {key}" in out.getvalue()


def test_files_again_are_every_policy_file_as_last_rendered(action_map: ActionMap, aggregator: Aggregator) -> None:
    """What an output directory removed under the collector gets back, without the texts being kept: the
    latest text of every policy file, its parts and policy.json, byte for byte (files of older flushes too)."""
    load(aggregator, workloads=3)
    flush = FlushRenderer(action_map, PolicyOptions(), max_policy_chars=400)  # w0..w2 split in parts
    latest = dict(flush.render(aggregator, COUNTERS, {}).files)
    aggregator.add(observed("SQS", "SendMessage", workload="w1"))
    latest.update(flush.render(aggregator, COUNTERS, {}).files)
    expected = {path: text for path, text in latest.items() if path.startswith("policies/") or path == "policy.json"}
    assert any(".part2.json" in path for path in expected)
    assert flush.files_again() == expected


def test_files_again_survive_a_flush_rendering_meanwhile(action_map: ActionMap, aggregator: Aggregator) -> None:
    """The output directory asks for them on its writer thread while the loop's thread may render a flush:
    a workload rendered for the first time in between must not break the iteration (the write would fail)."""
    load(aggregator, workloads=3)
    flush = FlushRenderer(action_map, PolicyOptions(), max_policy_chars=6144)
    flush.render(aggregator, COUNTERS, {})
    document = flush.builder.document
    aggregator.add(observed("SQS", "SendMessage", workload="newcomer"))

    def document_while_the_loop_renders(grants: Any) -> dict[str, Any]:
        flush.builder.document = document  # type: ignore[method-assign]
        flush.render(aggregator, COUNTERS, {})  # what the loop's thread does between two of these calls
        return document(grants)

    flush.builder.document = document_while_the_loop_renders  # type: ignore[method-assign]
    again = flush.files_again()
    assert "newcomer" in flush._known  # rendered meanwhile
    assert {"policies/w0.json", "policies/w1.json", "policies/w2.json"} <= set(again)


def test_a_restored_workload_left_with_nothing_to_grant_loses_its_old_policy_file(
    action_map: ActionMap, aggregator: Aggregator
) -> None:
    """A collector before the region check saved `old`'s only call in region `*` and wrote its policy; restored,
    the call is left out, and so is the file that granted it (a file named after no workload stays)."""
    fields = ["service", "api", "calls", "failed", "denied", "scopes", "members"]
    workloads = {
        "old": {"calls": [["SSM", "GetParameter", 1, 0, 0, [["*", None, []]], []]]},
        "kept": {"calls": [["SQS", "ListQueues", 1, 0, 0, [["eu-west-1", None, []]], []]]},
    }
    restore(aggregator, {"format": 3, "call_fields": fields, "stats": {}, "workloads": workloads})
    flush = renderer(action_map)
    flush.adopt(["policies/old.json", "policies/kept.json", "policies/someone-else.json"])
    files = flush.render(aggregator, COUNTERS, {}).files
    assert files["policies/old.json"] is None and "policies/someone-else.json" not in files
    assert "sqs:ListQueues" in str(files["policies/kept.json"]) and "ssm:" not in str(files["policy.json"])
