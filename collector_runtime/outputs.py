"""Write the collector's results to its output directory, atomically, touching only what changed.

Layout:
  policies/<workload>.json        one IAM policy per workload (ClientId), full
  policies/<workload>.partN.json  the same policy split under the managed-policy size limit, if needed
  policy.json                     all workloads merged
  stats.json                      counters, unmapped calls, warnings
  state.json                      call usage per workload (restart and `explain` read it)
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


@dataclass
class FlushReport:
    files_written: int = 0
    workloads_written: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


@dataclass
class _WrittenWorkload:
    version: int
    grants: Grants
    parts: int
    file: str


class OutputWriter:
    """Renders and writes policies; remembers what it wrote so a flush rewrites only changed workloads."""

    def __init__(
        self, output_dir: Path, action_map: ActionMap, options: PolicyOptions, *, max_policy_chars: int
    ) -> None:
        self.output_dir = output_dir
        self._root = os.fspath(output_dir)
        self.action_map = action_map
        self.options = options
        self.max_policy_chars = max_policy_chars
        self._written: dict[str, _WrittenWorkload] = {}
        self._merged_text: str | None = None
        self.warnings: dict[str, str] = {}

    def write(self, aggregator: Aggregator, runtime: dict[str, Any]) -> FlushReport:
        report = FlushReport()
        for name, workload in aggregator.workloads.items():
            known = self._written.get(name)
            if not workload.usage or (known is not None and known.version == workload.version):
                continue
            grants = workload_grants(workload, self.action_map, self.options)
            self._write_workload(name, grants, workload.version, report)
        if report.workloads_written or self._merged_text is None:
            self._write_merged(report)
        self._write(STATE, dumps_compact(snapshot(aggregator)), report, durable=True)
        self._write(STATS, dumps(self._stats(aggregator, runtime)), report)
        report.warnings = sorted(self.warnings.values())
        return report

    def _write_workload(self, name: str, grants: Grants, version: int, report: FlushReport) -> None:
        stem = workload_file_stem(name)
        document = render_policy(grants, self.options)
        parts = split_policy(document, self.max_policy_chars)
        self._write(f"{POLICIES_DIR}/{stem}.json", dumps(document), report)
        if len(parts) > 1:
            for index, part in enumerate(parts, start=1):
                self._write(f"{POLICIES_DIR}/{stem}.part{index}.json", dumps(part), report)
            self.warnings[name] = (
                f"policy of workload {name!r} is over {self.max_policy_chars} characters: "
                f"split into {len(parts)} documents ({stem}.part1.json ... part{len(parts)}.json)"
            )
        else:
            self.warnings.pop(name, None)
        previous = self._written.get(name)
        self._remove_stale_parts(stem, len(parts) if len(parts) > 1 else 0, previous.parts if previous else 0)
        self._written[name] = _WrittenWorkload(version, grants, len(parts) if len(parts) > 1 else 0, f"{stem}.json")
        report.workloads_written.append(name)

    def _remove_stale_parts(self, stem: str, now: int, before: int) -> None:
        for index in range(now + 1, before + 1):
            (self.output_dir / POLICIES_DIR / f"{stem}.part{index}.json").unlink(missing_ok=True)

    def _write_merged(self, report: FlushReport) -> None:
        merged = merge_grants(w.grants for w in self._written.values())
        text = dumps(render_policy(merged, self.options))
        if text != self._merged_text:
            self._write(MERGED_POLICY, text, report)
            self._merged_text = text

    def _write(self, relative: str, text: str, report: FlushReport, *, durable: bool = False) -> None:
        """Atomic always; fsync'd only for the state, from which every other file can be rebuilt."""
        atomic_write(os.path.join(self._root, relative), text, durable=durable)
        report.files_written += 1

    def _stats(self, aggregator: Aggregator, runtime: dict[str, Any]) -> dict[str, Any]:
        workloads = {
            name: {
                "policy_file": f"{POLICIES_DIR}/{written.file}",
                "actions": len(written.grants),
                "calls": sum(u.calls for u in aggregator.workloads[name].usage.values()),
                "policy_parts": written.parts or 1,
            }
            for name, written in sorted(self._written.items())
        }
        return {
            **runtime,
            **aggregator.stats.as_dict(),
            "workloads": workloads,
            "warnings": sorted(self.warnings.values()),
            "mapping_inputs": self.action_map.inputs,
        }
