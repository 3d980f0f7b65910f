"""`csm-collector explain`: why an action is (or is not) in a policy.

Two views: one operation (`explain S3 ListBuckets`: its actions, dependent actions, and the source of
the mapping), or a whole output directory (every call each workload made and what it mapped to).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, TextIO

from ..contract import STATE_FILE, STATS_FILE
from ..core.mapping import ActionMap, OperationMapping
from ..core.scoping import Scoper, explain_scope
from ..core.usage import CALL_FIELDS
from ..data import load_action_map
from ..errors import BadInput
from ..input_files import json_document, read_limited
from ..limits import MAX_STATE_FILE_BYTES
from ..settings import ExplainOptions


def run(options: ExplainOptions, out: TextIO) -> int:
    action_map = load_action_map()
    if options.output_dir is not None:
        return explain_output(action_map, options.output_dir, options.workload, out)
    return explain_operation(action_map, options.service or "", options.api or "", out)  # both: see settings


def describe(mapping: OperationMapping) -> str:
    if not mapping.mapped:
        return f"not mapped: {mapping.note}"
    if mapping.permissionless:
        return f"no IAM permission needed ({mapping.source}: {mapping.note})"
    text = ", ".join(mapping.actions) + f"  [{mapping.source}]"
    if mapping.pass_role_services:
        text += f"; iam:PassRole only to {', '.join(mapping.pass_role_services)}"
    return text


def may_need_lines(mapping: OperationMapping) -> list[str]:
    """What a request may also need: listed, granted only when a request showed it (or --dependent-actions)."""
    lines = []
    for item in mapping.may_need:
        condition = f"if the request sets {' or '.join(item.when)}" if item.when else "depending on the request"
        lines.append(f"may also need {item.action}, {condition}")
    return lines


def explain_operation(action_map: ActionMap, service: str, api: str, out: TextIO) -> int:
    mapping = action_map.lookup(service, api)
    resources = {
        action: [{"type": k.name, "every_request": k.required, "arn_formats": list(k.formats)} for k in kinds]
        for action in (*mapping.actions, *mapping.dependent)
        if (kinds := action_map.resource_types(action))
    }
    details = mapping.as_dict() | {"resolved_service": action_map.resolve_service(service), "resources": resources}
    out.write(json.dumps(details, indent=2) + "\n")
    return 0 if mapping.mapped else 1


def explain_output(action_map: ActionMap, output_dir: Path, workload: str | None, out: TextIO) -> int:
    state_file = output_dir / STATE_FILE
    try:
        state: dict[str, Any] = json_document(read_limited(state_file, MAX_STATE_FILE_BYTES), str(state_file))
    except OSError as error:
        raise BadInput(f"cannot read {state_file}: {getattr(error, 'strerror', None) or error}") from error
    workloads = state.get("workloads", {}) if isinstance(state, dict) else None
    if not isinstance(workloads, dict):
        raise BadInput(f"{state_file} is not a collector's state file")
    if workload is not None and workload not in workloads:
        raise BadInput(f"no workload {workload!r} in {state_file} (known: {', '.join(sorted(workloads)) or 'none'})")
    scoper = Scoper(action_map)
    generalized = _generalized(output_dir / STATS_FILE)
    for name, saved in sorted(workloads.items()):
        if workload is not None and name != workload:
            continue
        out.write(f"{name}\n")
        for row in saved.get("calls", []):
            call = dict(zip(state.get("call_fields", CALL_FIELDS), row, strict=True))
            mapping = action_map.lookup(call["service"], call["api"])
            counts = f"{call['calls']} calls, {call['failed']} failed, {call['denied']} denied"
            out.write(f"  {call['service']}.{call['api']:<36} {counts:<34} {describe(mapping)}\n")
            for line in _scope_lines(scoper, mapping, call.get("scopes") or []) + may_need_lines(mapping):
                out.write(f"      {line}\n")
        for denied in saved.get("denied_actions", []):
            out.write(
                f"  {denied['service']}.{denied['api']:<36} {'':<34} {denied['action']}  [named in AccessDenied]\n"
            )
        for item in generalized.get(name, []):
            out.write(f"  granted {_generalized_line(item)}\n")
    return 0


def _generalized(stats_file: Path) -> dict[str, list[Any]]:
    """Each workload's generalized resources as the last render decided them (stats.json), if it is there."""
    try:
        stats = json_document(read_limited(stats_file, MAX_STATE_FILE_BYTES), str(stats_file), MAX_STATE_FILE_BYTES)
        workloads = stats["workloads"]
        return {str(name): list(entry.get("generalized") or []) for name, entry in workloads.items()}
    except (OSError, BadInput, KeyError, TypeError, AttributeError):
        return {}


def _generalized_line(item: Any) -> str:
    """`pattern (why) from N names: e.g. ...`"""
    if not isinstance(item, dict):
        return str(item)
    why = "; ".join(str(rule) for rule in item.get("why", []))
    examples = ", ".join(str(example) for example in item.get("examples", []))
    return f"{item.get('pattern')} ({why}) from {item.get('from')} names, e.g. {examples}"


def _scope_lines(scoper: Scoper, mapping: OperationMapping, scopes: list[Any]) -> list[str]:
    """Each action's resources from each place the call was made (the first few places)."""
    lines = []
    for region, account, resources in scopes[:5]:
        for action in mapping.actions:
            lines += explain_scope(scoper, action, (region, account, tuple(resources)))
    if len(scopes) > 5:
        lines.append(f"... and {len(scopes) - 5} more places it was called in")
    return lines
