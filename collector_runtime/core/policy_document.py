"""Whether a JSON value is an IAM policy document (the shape `compare` reads). Pure."""

from __future__ import annotations

from typing import Any

from ..limits import MAX_ACTION_PATTERN_CHARS, MAX_RESOURCE_PATTERN_CHARS

_MAX_CHARS = {
    "Action": MAX_ACTION_PATTERN_CHARS,
    "NotAction": MAX_ACTION_PATTERN_CHARS,
    "Resource": MAX_RESOURCE_PATTERN_CHARS,
    "NotResource": MAX_RESOURCE_PATTERN_CHARS,
}


def policy_problem(document: Any) -> str | None:
    """Why `document` is not an IAM policy document (None if it is one): compare reads only valid ones."""
    if not isinstance(document, dict):
        return "not a JSON object"
    if "Statement" not in document:
        return "no Statement"
    statements = document["Statement"]
    statements = [statements] if isinstance(statements, dict) else statements
    if not isinstance(statements, list) or not all(isinstance(s, dict) for s in statements):
        return "Statement must be an object or a list of objects"
    for number, statement in enumerate(statements, start=1):
        problem = _statement_problem(statement)
        if problem:
            return f"statement {number}: {problem}"
    return None


def _statement_problem(statement: dict[str, Any]) -> str | None:
    if statement.get("Effect") not in ("Allow", "Deny"):
        return f"Effect must be Allow or Deny, not {statement.get('Effect')!r}"
    if ("Action" in statement) == ("NotAction" in statement):
        return "needs exactly one of Action and NotAction"
    for key, max_chars in _MAX_CHARS.items():
        value = statement.get(key, "")
        if not isinstance(value, str) and not (isinstance(value, list) and all(isinstance(v, str) for v in value)):
            return f"{key} must be a string or a list of strings"
        longest = max(map(len, [value] if isinstance(value, str) else value), default=0)
        if longest > max_chars:
            return f"{key} has a pattern of {longest} characters, longer than {max_chars}"
    return None
