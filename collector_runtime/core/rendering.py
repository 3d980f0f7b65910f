"""What one flush produces: the texts of every output file that changed, ready to write and publish.

Pure: the aggregator and the counters in, texts out (no filesystem, no clock). The renderer
remembers each workload's policy as last rendered, so a flush re-renders only the workloads whose
policy may have changed (their `version` moved), and state.json reuses unchanged workloads'
fragments.

Files (relative to the output directory; the same keys under the S3 prefix):
  policies/<workload>.json        one IAM policy per workload, full
  policies/<workload>.partN.json  the same policy split under the managed-policy size limit, if needed
  policy.json                     all workloads merged
  stats.json                      counters, unmapped calls, warnings
  state.json                      call usage per workload (restarts, `explain`, `compare` read it)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ..contract import MERGED_POLICY, POLICIES_DIR, STATE_FILE, STATS_FILE
from .aggregate import Aggregator
from .jsonio import dumps_pretty
from .mapping import ActionMap
from .names import workload_file_stem
from .policy import Grants, PolicyBuilder, PolicyOptions, merge_grants
from .policy_size import split_policy
from .state import StateSnapshots

FileChanges = dict[str, str | None]  # relative path -> new text, or None to delete


@dataclass(frozen=True)
class RenderedPolicy:
    workload: str
    stem: str
    document: dict[str, Any]
    text: str
    added: list[str]
    removed: list[str]


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
class _KnownWorkload:
    version: int
    grants: Grants
    parts: int
    stem: str


class FlushRenderer:
    """Renders the output files; keeps what each workload's policy was at its last render."""

    def __init__(self, action_map: ActionMap, options: PolicyOptions, *, max_policy_chars: int) -> None:
        self.action_map = action_map
        self.options = options
        self.builder = PolicyBuilder(action_map, options)
        self.max_policy_chars = max_policy_chars
        self._known: dict[str, _KnownWorkload] = {}
        self._merged_text: str | None = None
        self._state = StateSnapshots()
        self.warnings: dict[str, str] = {}

    def render(self, aggregator: Aggregator, counters: dict[str, Any], runtime: dict[str, Any]) -> Rendered:
        """`counters`: every counter to keep in state.json; `runtime`: what stats.json adds to them."""
        rendered = Rendered()
        for name, workload in aggregator.workloads.items():
            known = self._known.get(name)
            if workload.usage and (known is None or known.version != workload.version):
                grants = self.builder.grants(workload)
                rendered.policies.append(self._render_workload(name, grants, workload.version, rendered.files))
        if rendered.policies or self._merged_text is None:
            self._render_merged(rendered)
        rendered.state_text = self._state.render(aggregator, counters).decode()
        rendered.files[STATE_FILE] = rendered.state_text
        rendered.warnings = sorted(self.warnings.values())
        rendered.stats_text = dumps_pretty(self._stats(aggregator, counters, runtime))
        rendered.files[STATS_FILE] = rendered.stats_text
        return rendered

    def _render_workload(self, name: str, grants: Grants, version: int, files: FileChanges) -> RenderedPolicy:
        stem = workload_file_stem(name)
        document = self.builder.document(grants)
        text = dumps_pretty(document)
        files[f"{POLICIES_DIR}/{stem}.json"] = text
        # The indented text is never shorter than what IAM counts: most policies need no measuring.
        parts = [document] if len(text) <= self.max_policy_chars else split_policy(document, self.max_policy_chars)
        part_count = len(parts) if len(parts) > 1 else 0
        for index, part in enumerate(parts if part_count else [], start=1):
            files[f"{POLICIES_DIR}/{stem}.part{index}.json"] = dumps_pretty(part)
        previous = self._known.get(name)
        for index in range(part_count + 1, (previous.parts if previous else 0) + 1):
            files[f"{POLICIES_DIR}/{stem}.part{index}.json"] = None
        self._note_size(name, stem, part_count)
        before = previous.grants.actions() if previous else set()
        self._known[name] = _KnownWorkload(version, grants, part_count, stem)
        after = grants.actions()
        return RenderedPolicy(name, stem, document, text, sorted(after - before), sorted(before - after))

    def _note_size(self, name: str, stem: str, part_count: int) -> None:
        if part_count:
            self.warnings[name] = (
                f"policy of workload {name!r} is over {self.max_policy_chars} characters: "
                f"split into {part_count} documents ({stem}.part1.json ... part{part_count}.json)"
            )
        else:
            self.warnings.pop(name, None)

    def _render_merged(self, rendered: Rendered) -> None:
        merged = merge_grants(w.grants for w in self._known.values())
        text = dumps_pretty(self.builder.document(merged))
        if text != self._merged_text:
            rendered.merged_text = self._merged_text = text
            rendered.files[MERGED_POLICY] = text

    def _stats(self, aggregator: Aggregator, counters: dict[str, Any], runtime: dict[str, Any]) -> dict[str, Any]:
        workloads = {
            name: {
                "policy_file": f"{POLICIES_DIR}/{known.stem}.json",
                "actions": len(known.grants.actions()),
                "calls": aggregator.workloads[name].calls,
                "policy_parts": known.parts or 1,
                "may_need": [
                    {"action": note.action, "if_the_request_sets": list(note.when), "via": note.via}
                    for note in known.grants.may_need
                ],
            }
            for name, known in sorted(self._known.items())
        }
        return {
            **runtime,
            **counters,
            "workloads": workloads,
            "warnings": sorted(self.warnings.values()),
            "mapping_inputs": self.action_map.inputs,
        }
