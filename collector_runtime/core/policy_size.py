"""Policy size as IAM counts it, and splitting a policy into documents under a size limit. Pure."""

from __future__ import annotations

from typing import Any

from .json_codec import dumps_bytes

POLICY_VERSION = "2012-10-17"
MANAGED_POLICY_MAX_CHARS = 6_144  # IAM's managed-policy limit, counted without white space


def policy_size(document: dict[str, Any]) -> int:
    """Characters IAM counts against its limits: the document without white space."""
    return len(dumps_bytes(document))  # policies are ASCII: bytes = characters


def split_policy(document: dict[str, Any], max_chars: int = MANAGED_POLICY_MAX_CHARS) -> list[dict[str, Any]]:
    """Documents under `max_chars` each, together granting exactly what `document` grants."""
    if policy_size(document) <= max_chars:
        return [document]
    parts: list[dict[str, Any]] = []
    current = _empty()
    for statement in document["Statement"]:
        for action in statement["Action"]:
            if not _try_add(current, statement, action, max_chars) and current["Statement"]:
                parts.append(current)
                current = _empty()
                _try_add(current, statement, action, max_chars=None)
    if current["Statement"]:
        parts.append(current)
    return parts


def _empty() -> dict[str, Any]:
    return {"Version": POLICY_VERSION, "Statement": []}


def _try_add(part: dict[str, Any], statement: dict[str, Any], action: str, max_chars: int | None) -> bool:
    last = part["Statement"][-1] if part["Statement"] else None
    if last is None or last["Sid"] != statement["Sid"]:
        part["Statement"].append({**statement, "Action": [action]})
        added = part["Statement"]
    else:
        last["Action"].append(action)
        added = last["Action"]
    if max_chars is None or policy_size(part) <= max_chars:
        return True
    added.pop()
    return False


def unsplittable_warning(workload: str, document: dict[str, Any], max_chars: int) -> str | None:
    """A warning when `max_chars` is below what one statement of the policy needs with a single action
    (split_policy cannot go below that: such a part stays over the limit); None otherwise."""
    if policy_size(document) <= max_chars:
        return None
    needed = max(
        (
            policy_size({**_empty(), "Statement": [{**statement, "Action": [max(statement["Action"], key=len)]}]})
            for statement in document.get("Statement", [])
            if isinstance(statement.get("Action"), list) and statement["Action"]
        ),
        default=0,
    )
    if needed <= max_chars:
        return None
    return (
        f"--max-policy-chars {max_chars} is below what one statement of workload {workload!r} needs "
        f"({needed} characters): some of its policy parts stay over the limit"
    )
