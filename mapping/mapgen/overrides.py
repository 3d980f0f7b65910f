"""The reviewed override table, mapping/overrides.toml: every entry says why, every action must exist."""

from __future__ import annotations

import fnmatch
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

OVERRIDES = Path(__file__).resolve().parent.parent / "overrides.toml"
# required: always needed; may_need: when the listed members are present; alternative: another name of a
# permission the operation already has (AWS lists both spellings), so neither granted nor listed.
EXTRA_DECISIONS = ("required", "may_need", "alternative")


@dataclass(frozen=True)
class Overrides:
    prefixes: dict[str, dict[str, Any]]
    operations: dict[tuple[str, str], dict[str, Any]]
    services: dict[str, dict[str, Any]]
    extras: list[dict[str, Any]]
    resources: list[dict[str, Any]] = field(default_factory=list)  # resource types every request needs

    @classmethod
    def load(cls, path: Path = OVERRIDES) -> Overrides:
        raw = tomllib.loads(path.read_text())
        extras, resources = raw.get("extra", []), raw.get("resource", [])
        for entry in [*raw["prefix"], *raw["operation"], *raw["service"], *extras, *resources]:
            if not entry.get("why"):
                raise ValueError(f"override without a reason: {entry}")
        for entry in extras:
            if entry["decision"] not in EXTRA_DECISIONS:
                raise ValueError(f"extra decision must be one of {EXTRA_DECISIONS}: {entry}")
        return cls(
            prefixes={e["service"]: e for e in raw["prefix"]},
            operations={(e["service"], e["api"]): e for e in raw["operation"]},
            services={e["service"]: e for e in raw["service"]},
            extras=extras,
            resources=resources,
        )

    def operation(self, service_id: str, wire_name: str, op_key: str) -> dict[str, Any] | None:
        return self.operations.get((service_id, wire_name)) or self.operations.get((service_id, op_key))

    def extra(self, service_id: str, op_key: str, action: str) -> dict[str, Any] | None:
        """The decision on a further action: `api` and `action` may be shell-style patterns (`*`)."""
        for entry in self.extras:
            same_service = entry["service"] == service_id
            same_api = fnmatch.fnmatchcase(op_key, entry.get("api", "*"))
            if same_service and same_api and fnmatch.fnmatchcase(action, entry["action"]):
                return entry
        return None


def with_required_resources(
    action_resources: dict[str, list[str]], entries: list[dict[str, Any]]
) -> dict[str, list[str]]:
    """AWS's resource types per action (`kind*`: every request names one), with the reviewed `[[resource]]`
    entries marked required: types AWS's table lists as optional that a request needs all the same."""
    marked = {action: list(kinds) for action, kinds in action_resources.items()}
    for entry in entries:
        kinds = marked.get(entry["action"], [])
        if entry["type"] not in kinds and entry["type"] + "*" not in kinds:
            raise ValueError(f"{entry['action']} has no resource type {entry['type']!r}: {entry}")
        marked[entry["action"]] = sorted(entry["type"] + "*" if k == entry["type"] else k for k in kinds)
    return marked
