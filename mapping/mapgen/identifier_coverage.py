"""The figure "resource-typed actions whose identifying request member is read, out of all".

Counted per (botocore operation, required action): an action is resource-typed when it has a resource
type whose ARN format names a resource (a placeholder besides partition, region and account) — its
required types, or all of them when none is required (S3's object or access point's object). It is
*read* when a top-level request member that the proxy keeps (collector_runtime.sources.proxy.identifier_allowlist)
identifies it, by core.identifier_arns' rules: the member fills the format's first (outermost) name
placeholder (`TableName` -> `${TableName}`, `Bucket` -> `${BucketName}`, `KeyId` -> `${KeyId}`, a generic
`Name` -> the operation's own placeholder), or it holds an ARN of that resource (`FunctionArn` for
`${FunctionName}`, a generic `ResourceArn`/`Arn`), or a queue URL (`QueueUrl` for `${QueueName}`).
Otherwise the action is granted on the format filled with `*` for the unread names.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from collector_runtime.core.identifier_arns import placeholders_filled_by
from collector_runtime.core.mapping import ActionMap
from collector_runtime.sources.proxy.identifier_allowlist import is_identifier, is_secret

_LOCATION = ("Partition", "Region", "Account")
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
_GENERIC_ARNS = frozenset({"arn", "resourcearn", "resourcearns"})
_STEM_SUFFIXES = ("WithoutLeadingSlash", "WithPath", "Name", "Id", "ID", "Identifier")


@dataclass
class Coverage:
    read: int = 0
    total: int = 0
    unread_by_prefix: Counter[str] = field(default_factory=Counter)

    def lines(self) -> list[str]:
        share = self.read / self.total if self.total else 0.0
        worst = ", ".join(f"{p} {n}" for p, n in self.unread_by_prefix.most_common(8))
        return [
            "resource-typed actions whose identifying request member is read (botocore operations):",
            f"  read {self.read}/{self.total} = {share:.2%}",
            f"  unread, most by IAM prefix: {worst}",
        ]


def action_reads(
    action_map: ActionMap, service: str, api: str, members: Iterable[str], uri_members: frozenset[str] = frozenset()
) -> dict[str, bool]:
    """For each resource-typed required action of one operation: whether a request member identifies it."""
    mapping = action_map.lookup(service, api)
    prefix = action_map.prefix_of(service) or ""
    placeholders = {n for texts in action_map.formats_of(prefix).values() for t in texts for n in _names(t)}
    own = action_map.own_placeholder(mapping)
    kept = [m for m in members if is_identifier(m, "", from_uri=m in uri_members) and not is_secret(m, "")]
    reads = {}
    for action in mapping.actions:
        wanted = _identifying_placeholders(action_map, action)
        if wanted:
            reads[action] = any(_identifies(m, wanted, placeholders, own) for m in kept)
    return reads


def coverage(action_map: ActionMap, operations: Iterable[tuple[str, str, list[str], frozenset[str]]]) -> Coverage:
    """The figure over (serviceId, operation, request members, URI members)."""
    found = Coverage()
    for service, api, members, uri_members in operations:
        for action, read in action_reads(action_map, service, api, members, uri_members).items():
            found.total += 1
            found.read += read
            if not read:
                found.unread_by_prefix[action.partition(":")[0]] += 1
    return found


def _names(text: str) -> list[str]:
    return [n for n in _PLACEHOLDER.findall(text) if n not in _LOCATION]


def _identifying_placeholders(action_map: ActionMap, action: str) -> set[str]:
    types = action_map.resource_types(action)
    chosen = [kind for kind in types if kind.required] or list(types)
    return {names[0] for kind in chosen for text in kind.formats if (names := _names(text))}


def _identifies(member: str, wanted: set[str], placeholders: set[str], own: str | None) -> bool:
    lowered = member.lower()
    if lowered.endswith(("arn", "arns")):
        if lowered in _GENERIC_ARNS:
            return True
        stem = lowered.removesuffix("s").removesuffix("arn")
        return any(_stem(p) == stem for p in wanted)
    if lowered.endswith("url") and "QueueName" in wanted:
        return True
    return bool(wanted & set(placeholders_filled_by(member, placeholders, own)))


def _stem(placeholder: str) -> str:
    for suffix in _STEM_SUFFIXES:
        placeholder = placeholder.removesuffix(suffix)
    return placeholder.lower()
