"""What `apply` changes on a role, and what `apply --restore` changes to put it back. Pure: the role's
state (as `outputs/role_policies.py` reads it) in, steps out.

A role's state: {"role", "arn", "inline": {name: document}, "attached": [policy ARN, ...],
"managed": {policy ARN: None (does not exist) or {"default": version id, "versions": {id: document}}}}
with "managed" holding the customer-managed policies `apply` writes (csm-<workload>[-partN]).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from ..json_codec import dumps_bytes

MAX_VERSIONS = 5  # IAM keeps at most five versions of a managed policy

RECORD_SCHEMA = "csm-collector/apply-record/v1"


@dataclass(frozen=True)
class Step:
    """One IAM change: `kind` is create_policy, add_version, restore_version, set_default, delete_version,
    delete_policy, attach, detach, put_inline or delete_inline."""

    kind: str
    target: str  # a policy ARN, or an inline policy's name
    document: dict[str, Any] | None = None
    version: str | None = None

    def describe(self) -> str:
        what = {
            "create_policy": "create the managed policy",
            "add_version": "add a default version to",
            "restore_version": "add back a deleted (non-default) version to",
            "set_default": f"make {self.version} the default version of",
            "delete_version": f"delete version {self.version} of",
            "delete_policy": "delete the managed policy",
            "attach": "attach",
            "detach": "detach",
            "put_inline": "put the inline policy",
            "delete_inline": "delete the inline policy",
        }[self.kind]
        return f"{what} {self.target}"


def same(a: Any, b: Any) -> bool:
    return dumps_bytes(a) == dumps_bytes(b)


def plan_apply(state: dict[str, Any], desired: dict[str, dict[str, Any]], replaced: list[str]) -> list[Step]:
    """Steps that put each desired policy (ARN -> document) on the role as its default version, attached,
    and detach `replaced` and the role's parts of an earlier apply that are no longer needed."""
    steps: list[Step] = []
    for arn, document in desired.items():
        current = state["managed"].get(arn)
        if current is None:
            steps.append(Step("create_policy", arn, document))
        elif not same(current["versions"][current["default"]], document):
            oldest = sorted((v for v in current["versions"] if v != current["default"]), key=_version_number)
            if len(current["versions"]) >= MAX_VERSIONS:
                steps.append(Step("delete_version", arn, version=oldest[0]))
            steps.append(Step("add_version", arn, document))
        if arn not in state["attached"]:
            steps.append(Step("attach", arn))
    stale = [arn for arn in state["managed"] if arn not in desired and arn in state["attached"]]
    steps += [Step("detach", arn) for arn in [*stale, *replaced] if arn in state["attached"]]
    return steps


def plan_restore(current: dict[str, Any], recorded: dict[str, Any]) -> list[Step]:
    """Steps that bring the role from `current` back to `recorded`: inline policies, attachments, and the
    versions of the managed policies apply wrote (a policy apply created is deleted)."""
    steps = [Step("delete_inline", name) for name in current["inline"] if name not in recorded["inline"]]
    steps += [
        Step("put_inline", name, document)
        for name, document in recorded["inline"].items()
        if name not in current["inline"] or not same(current["inline"][name], document)
    ]
    steps += [Step("detach", arn) for arn in current["attached"] if arn not in recorded["attached"]]
    for arn, was in recorded["managed"].items():
        now = current["managed"].get(arn)
        if was is not None and now is not None:
            steps += _restore_versions(arn, now, was)
    steps += [Step("attach", arn) for arn in recorded["attached"] if arn not in current["attached"]]
    for arn, was in recorded["managed"].items():
        now = current["managed"].get(arn)
        if was is None and now is not None:
            steps += [Step("delete_version", arn, version=v) for v in now["versions"] if v != now["default"]]
            steps.append(Step("delete_policy", arn))
    return steps


def _restore_versions(arn: str, now: dict[str, Any], was: dict[str, Any]) -> list[Step]:
    """The recorded default version back as default, the versions added since deleted, and a version
    deleted since (to stay within five) added back with its document (IAM gives it a new id)."""
    steps = []
    default = was["default"]
    if default in now["versions"] and now["default"] != default:
        steps.append(Step("set_default", arn, version=default))
    steps += [Step("delete_version", arn, version=v) for v in now["versions"] if v not in was["versions"]]
    steps += [Step("restore_version", arn, doc) for v, doc in was["versions"].items() if v not in now["versions"]]
    return steps


def _version_number(version: str) -> int:
    digits = version.lstrip("vV")
    return int(digits) if digits.isdigit() else 0
