"""Render the collector's results and write them to its output directory, atomically.

Layout:
  policies/<workload>.json        one IAM policy per workload (ClientId), full
  policies/<workload>.partN.json  the same policy split under the managed-policy size limit, if needed
  policy.json                     all workloads merged
  stats.json                      counters, unmapped calls, warnings
  state.json                      call usage per workload (restarts, `explain` and `report` read it)

Rendering and writing are separate steps: `render` turns what changed since the last flush into
texts (which the publisher also receives, whether or not the disk works), `write_files` brings the
directory up to date. A file that could not be written stays pending and is written at the next
flush, so a full disk or a removed directory loses nothing once it is back.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .core.aggregate import Aggregator
from .core.mapping import ActionMap
from .core.names import workload_file_stem
from .core.policy import Grants, PolicyOptions, merge_grants, render_policy, split_policy, workload_grants
from .core.state import snapshot
from .files import atomic_write

POLICIES_DIR = "policies"
MERGED_POLICY = "policy.json"
STATS = "stats.json"
STATE = "state.json"


try:  # orjson renders the same JSON an order of magnitude faster; flush time matters at fleet scale
    import orjson

    def dumps(data: Any) -> str:
        return str(orjson.dumps(data, option=orjson.OPT_INDENT_2 | orjson.OPT_APPEND_NEWLINE), "utf-8")

    def dumps_compact(data: Any) -> str:
        return str(orjson.dumps(data, option=orjson.OPT_APPEND_NEWLINE), "utf-8")

except ImportError:  # pragma: no cover - exercised where orjson is absent

    def dumps(data: Any) -> str:
        return json.dumps(data, indent=2) + "\n"

    def dumps_compact(data: Any) -> str:
        return json.dumps(data, separators=(",", ":")) + "\n"


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


@dataclass
class _KnownWorkload:
    version: int
    grants: Grants
    parts: int
    stem: str


class OutputWriter:
    """Keeps what each workload's policy was at its last render, so a flush re-renders only changes."""

    def __init__(
        self, output_dir: Path, action_map: ActionMap, options: PolicyOptions, *, max_policy_chars: int
    ) -> None:
        self.output_dir = output_dir
        self._root = os.fspath(output_dir)
        self.action_map = action_map
        self.options = options
        self.max_policy_chars = max_policy_chars
        self._known: dict[str, _KnownWorkload] = {}
        self._merged_text: str | None = None
        self._pending: dict[str, tuple[str | None, bool]] = {}  # relative path -> (text or None to delete, durable)
        self._policies_on_disk = False
        self.warnings: dict[str, str] = {}

    def write(self, aggregator: Aggregator, runtime: dict[str, Any]) -> Rendered:
        """Render and write in one step (replay and report use this)."""
        rendered = self.render(aggregator, runtime)
        self.write_files()
        return rendered

    # --- rendering ----------------------------------------------------------------------------------

    def render(self, aggregator: Aggregator, runtime: dict[str, Any]) -> Rendered:
        if self._policies_on_disk and not os.path.isdir(os.path.join(self._root, POLICIES_DIR)):
            self._forget_rendered()  # the directory was removed under us: write everything again
        rendered = Rendered()
        for name, workload in aggregator.workloads.items():
            known = self._known.get(name)
            if not workload.usage or (known is not None and known.version == workload.version):
                continue
            grants = workload_grants(workload, self.action_map, self.options)
            rendered.policies.append(self._render_workload(name, grants, workload.version))
        if rendered.policies or self._merged_text is None:
            self._render_merged(rendered)
        rendered.state_text = dumps_compact(snapshot(aggregator))
        self._pending[STATE] = (rendered.state_text, True)
        rendered.warnings = sorted(self.warnings.values())
        rendered.stats_text = dumps(self._stats(aggregator, runtime))
        self._pending[STATS] = (rendered.stats_text, False)
        return rendered

    def _render_workload(self, name: str, grants: Grants, version: int) -> RenderedPolicy:
        stem = workload_file_stem(name)
        document = render_policy(grants, self.options)
        text = dumps(document)
        self._pending[f"{POLICIES_DIR}/{stem}.json"] = (text, False)
        parts = split_policy(document, self.max_policy_chars)
        part_count = len(parts) if len(parts) > 1 else 0
        for index, part in enumerate(parts if part_count else [], start=1):
            self._pending[f"{POLICIES_DIR}/{stem}.part{index}.json"] = (dumps(part), False)
        previous = self._known.get(name)
        for index in range(part_count + 1, (previous.parts if previous else 0) + 1):
            self._pending[f"{POLICIES_DIR}/{stem}.part{index}.json"] = (None, False)
        self._note_size(name, stem, part_count)
        before = set(previous.grants) if previous else set()
        self._known[name] = _KnownWorkload(version, grants, part_count, stem)
        return RenderedPolicy(name, stem, document, text, sorted(set(grants) - before), sorted(before - set(grants)))

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
        text = dumps(render_policy(merged, self.options))
        if text != self._merged_text:
            rendered.merged_text = self._merged_text = text
            self._pending[MERGED_POLICY] = (text, False)

    def _stats(self, aggregator: Aggregator, runtime: dict[str, Any]) -> dict[str, Any]:
        workloads = {
            name: {
                "policy_file": f"{POLICIES_DIR}/{known.stem}.json",
                "actions": len(known.grants),
                "calls": sum(u.calls for u in aggregator.workloads[name].usage.values()),
                "policy_parts": known.parts or 1,
            }
            for name, known in sorted(self._known.items())
        }
        return {
            **runtime,
            **aggregator.stats.as_dict(),
            "workloads": workloads,
            "warnings": sorted(self.warnings.values()),
            "mapping_inputs": self.action_map.inputs,
        }

    # --- writing ------------------------------------------------------------------------------------

    def write_files(self) -> int:
        """Bring the directory up to date; raises OSError with the unwritten files still pending.

        State first, then policies, stats last: a reader that sees a new stats.json sees all files.
        """
        order = sorted(self._pending, key=lambda path: (path != STATE, path == STATS, path))
        written = 0
        for relative in order:
            text, durable = self._pending[relative]
            target = os.path.join(self._root, relative)
            if text is None:
                Path(target).unlink(missing_ok=True)
            else:
                atomic_write(target, text, durable=durable)
                self._policies_on_disk = self._policies_on_disk or relative.startswith(POLICIES_DIR)
            del self._pending[relative]
            written += 1
        return written

    @property
    def pending_files(self) -> int:
        return len(self._pending)

    def _forget_rendered(self) -> None:
        for known in self._known.values():
            known.version = -1
        self._merged_text = None
        self._policies_on_disk = False
