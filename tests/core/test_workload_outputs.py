"""No workload name, sanitized or not, reaches another workload's file, part file, S3 key or SSM
parameter; cleaning up parts (and the names of earlier versions) only ever touches the workload's own."""

from __future__ import annotations

from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from collector_runtime.contract import HISTORY_DIR, POLICIES_DIR
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.names import legacy_file_stem
from collector_runtime.core.policy import PolicyOptions
from collector_runtime.core.policy_files import policy_path
from collector_runtime.core.publish_plan import PublishTargets, publish_plan
from collector_runtime.core.rendering import FlushRenderer
from tests.conftest import observed

COUNTERS = {"calls": 0}
TARGETS = PublishTargets(bucket="b", prefix="csm/", ssm_prefix="/csm")
SMALL = 150  # --max-policy-chars: a policy of a few actions splits into parts
ACTIONS = ["GetObject", "PutObject", "DeleteObject", "ListBuckets", "GetBucketPolicy", "PutBucketPolicy"]
SHARED = {"policy.json", "stats.json", "state.json"}


def renderer(action_map: ActionMap, max_chars: int = SMALL) -> FlushRenderer:
    return FlushRenderer(action_map, PolicyOptions(force_wildcard_resource=True), max_policy_chars=max_chars)


def outputs_of(action_map: ActionMap, name: str, actions: int) -> set[str]:
    """Every file, S3 key and SSM parameter of workload `name` (rendered alone), its history key as a prefix."""
    aggregator = Aggregator(action_map)
    for operation in ACTIONS[:actions]:
        aggregator.add(observed("S3", operation, workload=name))
    rendered = renderer(action_map).render(aggregator, COUNTERS, {})
    plan = publish_plan(rendered, TARGETS, "STAMP", record_history=True)
    files = {f"file:{path}" for path in rendered.files if path not in SHARED}
    keys = {f"s3:{key}" for key in plan.objects if key.removeprefix(TARGETS.prefix) not in SHARED}
    history = {f"s3:{key.rsplit('/', 1)[0]}/" for key, _ in plan.history}
    parameters = {f"ssm:{name}" for name in plan.parameters}
    assert any(path.startswith(f"file:{POLICIES_DIR}/") for path in files)
    assert history and all(key.startswith(f"s3:{TARGETS.prefix}{HISTORY_DIR}/") for key in history)
    return files | keys | history | parameters


def disjoint(action_map: ActionMap, a: str, b: str) -> None:
    mine, theirs = outputs_of(action_map, a, len(ACTIONS)), outputs_of(action_map, b, len(ACTIONS))
    assert not mine & theirs, (a, b, mine & theirs)
    for prefix in (p for p in mine | theirs if p.endswith("/")):  # history folders: no key of the other inside
        owner_is_a = prefix in mine
        other = theirs if owner_is_a else mine
        assert not any(key.startswith(prefix) for key in other)


def test_a_workload_named_like_a_part_file_gets_a_file_of_its_own(action_map: ActionMap) -> None:
    victim = outputs_of(action_map, "victim", len(ACTIONS))
    assert f"file:{POLICIES_DIR}/victim.part1.json" in victim  # victim's policy is split
    forged = outputs_of(action_map, "victim.part1", 1)
    assert not victim & forged
    assert f"file:{POLICIES_DIR}/victim.part1.json" not in forged


SAFE = st.text(alphabet="abcXYZ09._-", min_size=1, max_size=12)
SUFFIX = st.sampled_from(["", ".part1", ".part2", ".PART1", ".Part10", ".part01", ".part", ".json", "~0123456789"])


@st.composite
def related_names(draw: st.DrawFn) -> tuple[str, str]:
    """Two names likely to collide: a name and a part-like, case-varied or same-when-sanitized variant."""
    base = draw(st.one_of(SAFE, st.text(max_size=12)))
    a = base + draw(SUFFIX)
    variant = draw(
        st.sampled_from(
            [
                base,
                base + ".part1",
                base + ".part2",
                a + ".part1",
                a.upper(),
                a.lower(),
                a.replace(".", "/"),
                a + " ",
                a.replace("_", "/"),
                "." + a,
                a + ".",
            ]
        )
    )
    other = draw(st.one_of(st.just(variant), st.text(max_size=12), SAFE.map(lambda s: s + ".part1")))
    return a, other


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(related_names())
def test_distinct_workloads_never_share_a_file_key_or_parameter(action_map: ActionMap, names: tuple[str, str]) -> None:
    a, b = names
    if a != b:
        disjoint(action_map, a, b)


def render_both(
    action_map: ActionMap, names: tuple[str, str], max_chars: int, adopted: set[str]
) -> dict[str, str | None]:
    aggregator = Aggregator(action_map)
    for name in names:
        for operation in ACTIONS:
            aggregator.add(observed("S3", operation, workload=name))
    flush = renderer(action_map, max_chars)
    flush.adopt(sorted(adopted))
    return flush.render(aggregator, COUNTERS, {}).files


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(related_names(), st.sampled_from([SMALL, 2 * SMALL, 100_000]))
@example(("0.PART1", "0"), 150)  # a legacy file named like another workload's part in another case
def test_a_restart_deletes_stale_files_of_known_workloads_and_nothing_else(
    action_map: ActionMap, names: tuple[str, str], max_chars: int
) -> None:
    """Run 1 split both policies (and an earlier version may have left them under its names); run 2, with
    another limit, deletes exactly the files of these workloads that are no longer any workload's."""
    assume(names[0] != names[1])
    before = {p for p in render_both(action_map, names, SMALL, set()) if p.startswith(f"{POLICIES_DIR}/")}
    legacy = {policy_path(legacy_file_stem(name)) for name in names}
    stray = {f"{POLICIES_DIR}/~stray.json", f"{POLICIES_DIR}/~stray.part1.json"}  # named after no workload
    files = render_both(action_map, names, max_chars, before | legacy | stray)
    deleted = {path for path, text in files.items() if text is None}
    current = {path for path, text in files.items() if text is not None}
    assert not deleted & current
    assert deleted == (before | legacy) - current
