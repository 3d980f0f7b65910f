"""Concrete requests for an independent IAM evaluator (tests/oracle), from what a workload was observed doing.

For every counted operation, every action it needed and every scope it was called in: a request on a real
ARN of that scope (names the call named, `example` for the others), which the generated policy must allow;
and the same request moved to another account, region or named resource, which it must not.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass

from collector_runtime.core.arns import ACCOUNT, PARTITION, REGION, ArnFormat, arn_format, partition_of, read_arn
from collector_runtime.core.mapping import PASS_ROLE, ActionMap, ResourceType
from collector_runtime.core.usage import CallUsage, Scope, Workload
from tests.oracle import Request

OTHER_ACCOUNT, OTHER_REGION, OTHER_NAME = "999999999999", "ap-southeast-2", "someone-elses"
EXAMPLE = "example"


@dataclass(frozen=True)
class Case:
    request: Request
    why: str  # what the request checks: "observed", "other account", "other region", "other name", ...


def cases(action_map: ActionMap, workload: Workload, caller_account: str) -> Iterator[Case]:
    """The requests that must be allowed (`observed`) and those that must not (all others). A request moved
    to another account (region, name) is expected to be denied only when every call that needed the action
    named its account (region, resource): one that did not leaves that dimension open, rightly."""
    needed: dict[str, list[tuple[CallUsage, Scope]]] = {}
    for usage in workload.usage.values():
        if usage.counted(fails_only=False):
            for action in usage.mapping.actions:
                needed.setdefault(action, []).extend((usage, scope) for scope in usage.scopes)
    for action, uses in needed.items():
        found = [c for usage, scope in uses for c in _action_cases(action_map, usage, action, scope, caller_account)]
        kept = {c.why for c in found if c.why == "observed" or _all_named(action_map, action, uses, c.why)}
        yield from (c for c in found if c.why in kept)


def _all_named(action_map: ActionMap, action: str, uses: list[tuple[CallUsage, Scope]], why: str) -> bool:
    if why == "other account":
        return all(account for _, (_, account, _) in uses)
    if why == "other region":
        return all(region for _, (region, _, _) in uses)
    if why == "other name":
        prefix = action.partition(":")[0]
        formats = [text for texts in action_map.formats_of(prefix).values() for text in texts]
        return all(
            action not in usage.mapping.other_resource and any(_names_one(arn, formats) for arn in resources)
            for usage, (_, _, resources) in uses
        )
    return True


def _names_one(arn: str, formats: list[str]) -> bool:
    """Whether an ARN names a resource (`arn:aws:s3:::*`, a path-style call's "some bucket", names none)."""
    found = read_arn(arn, formats)
    return found is not None and any(name not in (PARTITION, REGION, ACCOUNT) for name in found[1])


def _action_cases(action_map: ActionMap, usage: CallUsage, action: str, scope: Scope, caller: str) -> Iterator[Case]:
    region, account, resources = scope
    context = _context(usage, action)
    types = action_map.resource_types(action)
    if not types:
        yield Case(Request(action, "*", caller, context=context), "observed")
        return
    prefix = action.partition(":")[0]
    formats = [text for texts in action_map.formats_of(prefix).values() for text in texts]
    # a pattern the source named (a secret's "-??????" suffix) as one concrete resource it matches
    # and a name that is `*` itself (a path-style S3 call's "some bucket") binds `*`, as the scoper reads it
    named = [
        found for arn in resources if (found := read_arn(arn.replace("?", "A"), formats, any_name=True)) is not None
    ]
    ignore_named = action in usage.mapping.other_resource
    for kind in _types_to_request(types, [] if ignore_named else named):
        bound = {} if ignore_named else _best_binding(named, kind)
        yield from _type_cases(action, kind, region, account or caller, bound, caller, context, account)
    if action == PASS_ROLE:
        other = {"iam:PassedToService": "not-the-passed-to-service.amazonaws.com"}
        arn = _fill(types[0].formats[0], region, account or caller, {})
        yield Case(Request(action, arn, caller, context=other), "passed to another service")


def _types_to_request(
    types: tuple[ResourceType, ...], named: list[tuple[ArnFormat, dict[str, str]]]
) -> list[ResourceType]:
    """The types a call that named these resources used: each named resource's own; a type every request
    needs (or, where none is, any of the alternatives) whose outermost name a named resource binds (a
    bucket's objects); an optional extra (a table's index) only when named itself."""
    alternatives = not any(k.required for k in types)
    bound = [
        k
        for k in types
        if any(f.text in k.formats for f, _ in named)
        or ((k.required or alternatives) and any(_names(k) and _names(k)[0] in b for _, b in named))
    ]
    if bound:
        return bound
    required = [k for k in types if k.required]
    return required or [min(types, key=lambda k: len(_names(k)))]


def _best_binding(named: list[tuple[ArnFormat, dict[str, str]]], kind: ResourceType) -> dict[str, str]:
    """Of the named ARNs, the one binding most of the type's names (an object's, not its bucket's)."""
    names = set(_names(kind))
    overlapping = [b for _, b in named if set(b) & names]
    return max(overlapping, key=lambda b: len(set(b) & names), default={})


def _names(kind: ResourceType) -> tuple[str, ...]:
    return arn_format(kind.formats[0]).names


def _type_cases(
    action: str,
    kind: ResourceType,
    region: str | None,
    account: str,
    bound: dict[str, str],
    caller: str,
    context: dict[str, str],
    known_account: str | None,
) -> Iterator[Case]:
    text = kind.formats[0]
    own_account = bound.get("Account") or account
    arn = _fill(text, bound.get(REGION) or region, own_account, bound)
    yield Case(Request(action, arn, caller, context=context), "observed")
    if "${Account}" in text and (known_account or bound.get("Account")):
        yield Case(Request(action, _fill(text, region, OTHER_ACCOUNT, bound), caller, context=context), "other account")
    if "${Region}" in text and region:
        other = _fill(text, OTHER_REGION, own_account, {**bound, REGION: OTHER_REGION})
        yield Case(Request(action, other, caller, context=context), "other region")
    names = [name for name in arn_format(text).names if bound.get(name, "*") != "*"]  # `*`: any name is right
    if names:
        moved = {**bound, names[0]: OTHER_NAME}
        yield Case(Request(action, _fill(text, region, own_account, moved), caller, context=context), "other name")


def _fill(text: str, region: str | None, account: str, bound: dict[str, str]) -> str:
    partition = bound.get(PARTITION) or partition_of(region)
    names = {name: bound.get(name, EXAMPLE) for name in arn_format(text).names}
    return re.sub(r"\*", EXAMPLE, arn_format(text).fill(partition, region or "us-east-1", account, names))


def _context(usage: CallUsage, action: str) -> dict[str, str]:
    if action != PASS_ROLE or not usage.mapping.pass_role_services:
        return {}
    return {"iam:PassedToService": usage.mapping.pass_role_services[0]}
