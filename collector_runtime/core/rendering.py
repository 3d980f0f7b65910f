"""What one flush produces: the texts of every output file that changed, ready to write and publish.

Pure: the aggregator and the counters in, texts out (no filesystem, no clock). The renderer
remembers each workload's policy as last rendered, so a flush re-renders only the workloads whose
policy may have changed (their `version` moved), and state.json reuses unchanged workloads'
fragments.

Files (relative to the output directory; the same keys under the S3 prefix):
  policies/<workload>.json        one IAM policy per workload, full
  policies/<workload>.partN.json  the same policy split under the managed-policy size limit, if needed
                                  (names: core.names, core.policy_files)
  policy.json                     all workloads merged
  stats.json                      counters, unmapped calls, warnings
  state.json                      call usage per workload (restarts, `explain`, `compare` read it)
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ..contract import MERGED_POLICY, STATE_FILE, STATS_FILE
from .aggregate import Aggregator
from .json_codec import dumps_pretty, loads
from .mapping import ActionMap
from .names import legacy_file_stem, part_file_stem, split_part_stem, workload_file_stem
from .policy import Grants, PolicyBuilder, PolicyOptions, merge_grants
from .policy_files import Leftovers, file_stem, part_path, policy_path
from .policy_size import split_policy, unsplittable_warning
from .state import StateSnapshots
from .usage import Workload

# During a stream, a policy is rendered ahead once it stood still for this many looks in a row (one per
# slice of core.schedule's duty cycle): while a workload is still learning, rendering it would be wasted.
STREAM_STILL_LOOKS = 3
FileChanges = dict[str, str | None]  # relative path -> new text, or None to delete


@dataclass(frozen=True)
class RenderedPolicy:
    workload: str
    stem: str
    text: str
    added: list[str]
    removed: list[str]

    @property
    def document(self) -> dict[str, Any]:
        """The policy, parsed from its text when asked (alerts, publishing): kept as objects from rendering to
        the flush, a thousand policies' documents would be ~10 KB each on top of their texts."""
        document: dict[str, Any] = loads(self.text)
        return document


@dataclass
class Rendered:
    """What changed at one flush, as texts ready to write or publish."""

    policies: list[RenderedPolicy] = field(default_factory=list)
    merged_text: str | None = None
    state_text: str = ""
    stats_text: str = ""
    warnings: list[str] = field(default_factory=list)
    files: FileChanges = field(default_factory=dict)


@dataclass
class _Known:
    """What a flush keeps of a workload's last rendered policy (not its texts)."""

    version: int
    grants: Grants
    actions: frozenset[str]
    part_count: int
    summary: dict[str, Any]


@dataclass
class _Prepared:
    """A workload's policy as rendered (ahead of a flush, see `FlushRenderer.prepare`, or at one)."""

    version: int
    grants: Grants
    actions: frozenset[str]
    text: str
    parts: list[str]  # the texts of its part files; empty when it needs no splitting
    unsplittable: str | None  # a warning when the size limit is below what one of its statements needs
    summary: dict[str, Any]  # its entry in stats.json (`calls` filled in at each flush)


class FlushRenderer:
    """Renders the output files; keeps what each workload's policy was at its last render."""

    def __init__(self, action_map: ActionMap, options: PolicyOptions, *, max_policy_chars: int) -> None:
        self.action_map = action_map
        self.options = options
        self.builder = PolicyBuilder(action_map, options)
        self.max_policy_chars = max_policy_chars
        self._known: dict[str, _Known] = {}  # each workload's policy at its last render
        self._prepared: dict[str, _Prepared] = {}
        self._merged_text: str | None = None
        self._merged_ahead: tuple[tuple[tuple[str, int], ...], str] | None = None  # (versions, text)
        self._stream_seen: dict[str, tuple[int, int]] = {}  # during a stream: (version, looks it stood still)
        self._state = StateSnapshots()
        self._stems: dict[str, str] = {}  # file stem -> the workload whose policy it names
        self._leftovers = Leftovers()
        self.warnings: dict[tuple[str, str], str] = {}  # (workload, kind) -> warning

    def adopt(self, policy_files: list[str]) -> None:
        """The policy files an earlier run left (`policies/<name>.json`): those that belong to a workload and
        are no longer its files are deleted when it is first rendered (see core.policy_files)."""
        self._leftovers = Leftovers(policy_files)

    def render(self, aggregator: Aggregator, counters: dict[str, Any], runtime: dict[str, Any]) -> Rendered:
        """`counters`: every counter to keep in state.json; `runtime`: what stats.json adds to them."""
        rendered = Rendered()
        first_seen: list[str] = []
        for name, workload in aggregator.workloads.items():
            if self._changed(name, workload):
                prepared = self._prepared.pop(name, None)
                if prepared is None or prepared.version != workload.version:
                    prepared = self._prepare(workload)
                if name not in self._known:
                    first_seen.append(name)
                rendered.policies.append(self._render_workload(name, prepared, rendered.files))
            elif not workload.usage and name not in self._known:
                first_seen.append(name)  # restored with nothing left to grant (core.saved_state): no policy
        if first_seen:
            self._delete_leftovers(first_seen, rendered.files)
        if rendered.policies or self._merged_text is None:
            self._render_merged(rendered)
        rendered.state_text = self._state.render(aggregator, counters).decode()
        rendered.files[STATE_FILE] = rendered.state_text
        rendered.warnings = sorted(self.warnings.values())
        rendered.stats_text = dumps_pretty(self._stats(aggregator, counters, runtime))
        rendered.files[STATS_FILE] = rendered.stats_text
        return rendered

    def prepare(self, aggregator: Aggregator, more_time: Callable[[], bool], *, state: bool = True) -> bool:
        """Render ahead, while `more_time()` says there is time (the collector calls this when idle, and in
        short slices during a stream): the policies of the workloads that changed, policy.json, and (`state`)
        their state fragments. A flush then only writes them. Returns whether everything asked is prepared.

        During a stream (`state=False`) the state fragments are left to the flush (every call changes some
        counters), a policy is rendered once it stood still from one call of `prepare` to the next (one that
        changes all the time would be stale again at the flush), and policy.json, which merges every
        workload, once every changed policy is rendered."""
        complete = True
        for name, workload in aggregator.workloads.items():
            prepared = self._prepared.get(name)
            if (prepared is not None and prepared.version == workload.version) or not self._changed(name, workload):
                continue  # the common case, kept cheap: a slice during a stream mostly only looks
            if not state and not self._stood_still(name, workload.version):
                complete = False
            elif not more_time():
                return False
            else:
                self._prepared[name] = self._prepare(workload)
                self._merged_ahead = None
        if not complete:
            return False
        if self._prepared and self._merged_ahead is None:
            if not more_time():
                return False
            self._prepare_merged()
        return self._state.prepare(aggregator, more_time) if state else True

    def _stood_still(self, name: str, version: int) -> bool:
        """Whether a workload's policy stood still for STREAM_STILL_LOOKS looks during a stream."""
        seen, looks = self._stream_seen.get(name, (None, 0))
        looks = looks + 1 if seen == version else 0
        self._stream_seen[name] = (version, looks)
        return looks >= STREAM_STILL_LOOKS

    @property
    def rendered_ahead(self) -> list[str]:
        """The workloads whose policy is rendered ahead of the next flush."""
        return sorted(self._prepared)

    def _changed(self, name: str, workload: Workload) -> bool:
        known = self._known.get(name)
        return bool(workload.usage) and (known is None or known.version != workload.version)

    def _prepare(self, workload: Workload) -> _Prepared:
        grants = self.builder.grants(workload)
        document = self.builder.document(grants)
        text = dumps_pretty(document)
        # The indented text is never shorter than what IAM counts: most policies need no measuring.
        texts: list[str] = []
        unsplittable = None
        if len(text) > self.max_policy_chars:
            parts = split_policy(document, self.max_policy_chars)
            texts = [dumps_pretty(part) for part in parts] if len(parts) > 1 else []
            unsplittable = unsplittable_warning(workload.name, document, self.max_policy_chars)
        actions = frozenset(grants.actions())
        summary = {
            "policy_file": policy_path(workload_file_stem(workload.name)),
            "actions": len(actions),
            "calls": 0,
            "policy_parts": len(texts) or 1,
            "may_need": [
                {"action": note.action, "if_the_request_sets": list(note.when), "via": note.via}
                for note in grants.may_need
            ],
            "generalized": [item.as_dict() for item in grants.generalized],
        }
        return _Prepared(workload.version, grants, actions, text, texts, unsplittable, summary)

    def _render_workload(self, name: str, prepared: _Prepared, files: FileChanges) -> RenderedPolicy:
        stem = workload_file_stem(name)
        self._stems[stem] = name
        files[policy_path(stem)] = prepared.text
        for index, part in enumerate(prepared.parts, start=1):
            files[part_path(stem, index)] = part
        previous = self._known.get(name)
        for index in range(len(prepared.parts) + 1, (previous.part_count if previous else 0) + 1):
            files[part_path(stem, index)] = None  # parts it no longer has: its own names only (core.names)
        self._note_size(name, stem, prepared)
        before = previous.actions if previous else frozenset()
        self._known[name] = _Known(
            prepared.version, prepared.grants, prepared.actions, len(prepared.parts), prepared.summary
        )
        after = prepared.actions
        added, removed = sorted(after - before), sorted(before - after)
        return RenderedPolicy(name, stem, prepared.text, added, removed)

    def files_again(self) -> FileChanges:
        """Every policy file (its parts, policy.json) as last rendered, rendered again from the grants each
        workload's policy keeps: for an output directory removed under the collector, which is rare, where
        keeping every text to write it again would cost ~5 KB per workload for the collector's lifetime.
        Called on the output writer's thread while the loop's may render: it reads a copy of the workloads
        (taken at once), whose entries a render replaces but never changes."""
        files: FileChanges = {}
        for name, known in list(self._known.items()):
            stem = workload_file_stem(name)
            document = self.builder.document(known.grants)
            files[policy_path(stem)] = dumps_pretty(document)
            if known.part_count:
                for index, part in enumerate(split_policy(document, self.max_policy_chars), start=1):
                    files[part_path(stem, index)] = dumps_pretty(part)
        if self._merged_text is not None:
            files[MERGED_POLICY] = self._merged_text
        return files

    def _delete_leftovers(self, workloads: list[str], files: FileChanges) -> None:
        """Delete what an earlier run left under these workloads' names, unless a current workload's file."""
        stems = {stem for name in workloads for stem in (workload_file_stem(name), legacy_file_stem(name))}
        for path in self._leftovers.claim(stems):
            if path not in files and not self._is_current(path):
                files[path] = None

    def _is_current(self, path: str) -> bool:
        """Whether `path` is the policy or a part of a rendered workload."""
        stem = file_stem(path)
        if stem is None or stem in self._stems:
            return stem is not None
        part = split_part_stem(stem)
        owner = self._stems.get(part[0]) if part else None
        if part is None or owner is None or part_file_stem(part[0], part[1]) != stem:  # `x.PART1` is not `x.part1`
            return False
        return self._known[owner].part_count >= part[1]

    def _note_size(self, name: str, stem: str, prepared: _Prepared) -> None:
        part_count = len(prepared.parts)
        if part_count:
            self.warnings[name, "split"] = (
                f"policy of workload {name!r} is over {self.max_policy_chars} characters: "
                f"split into {part_count} documents ({stem}.part1.json ... part{part_count}.json)"
            )
        else:
            self.warnings.pop((name, "split"), None)
        if prepared.unsplittable:
            self.warnings[name, "unsplittable"] = prepared.unsplittable
        else:
            self.warnings.pop((name, "unsplittable"), None)

    def _prepare_merged(self) -> None:
        """policy.json as it will be once the prepared policies are rendered (a flush then reuses it)."""
        upcoming: dict[str, _Known | _Prepared] = {**self._known, **self._prepared}
        self._merged_ahead = (_versions(upcoming), self._merged(upcoming))

    def _merged(self, policies: dict[str, _Known] | dict[str, _Known | _Prepared]) -> str:
        return dumps_pretty(self.builder.document(merge_grants(p.grants for p in policies.values())))

    def _render_merged(self, rendered: Rendered) -> None:
        ahead, self._merged_ahead = self._merged_ahead, None
        text = ahead[1] if ahead and ahead[0] == _versions(self._known) else self._merged(self._known)
        if text != self._merged_text:
            rendered.merged_text = self._merged_text = text
            rendered.files[MERGED_POLICY] = text

    def _stats(self, aggregator: Aggregator, counters: dict[str, Any], runtime: dict[str, Any]) -> dict[str, Any]:
        workloads = {
            name: {**known.summary, "calls": aggregator.workloads[name].calls}
            for name, known in sorted(self._known.items())
        }
        return {
            **runtime,
            **counters,
            "workloads": workloads,
            "warnings": sorted(self.warnings.values()),
            "mapping_inputs": self.action_map.inputs,
        }


def _versions(policies: dict[str, _Known] | dict[str, _Known | _Prepared]) -> tuple[tuple[str, int], ...]:
    return tuple(sorted((name, policy.version) for name, policy in policies.items()))
