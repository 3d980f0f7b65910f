"""Decode the top level of a request body (JSON, XML, form, CBOR) into {serialized name: value}. Pure.

Only the top level matters: the matcher keeps top-level member names and identifier-like string values.
A body that does not decode (cut at MAX_BODY, malformed, unexpected type) gives an empty result; nothing
raises. Values other than strings are kept only as a marker that the member was set, but for a list of
at most MAX_LISTED strings (EC2's `InstanceId.1=...`, JSON's `"repositoryNames": [...]`): a `Listed`, and
the keys of a JSON or CBOR object of at most MAX_LISTED keys (DynamoDB's `RequestItems`, by table): `Keys`
(whether they are read is the operation's model's say: only a map keyed by ARNs or names of them is).
One thing is read below the top level: the IAM role ARNs a JSON body passes inside its structures and lists
(EventBridge's `Targets[].RoleArn`), which `iam:PassRole` is authorized on, and which structures hold a key
naming a role at all (`json_passed_roles`).
"""

from __future__ import annotations

import io
import json
from typing import Any, NamedTuple
from urllib.parse import parse_qsl
from xml.etree import ElementTree

from collector_runtime.core.arns import is_role_arn
from collector_runtime.sources.proxy.nested_names import names_a_role

SET = object()  # a member that is present with a non-string value (number, list, structure, blob)
MAX_LISTED = 32  # strings read from one list member; a longer list is only SET
MAX_NESTING = 4  # structures within structures and lists searched for passed roles, below the top level


class Listed(tuple[str, ...]):
    """A top-level list of strings (a list member's names, in order)."""


class Keys(tuple[str, ...]):
    """The keys of a top-level object (a map member's keys, or a structure's member names), in order."""


def _keys(document: dict[Any, Any]) -> object:
    return Keys(document) if 0 < len(document) <= MAX_LISTED and all(isinstance(k, str) for k in document) else SET


def _listed(items: list[Any]) -> object:
    return Listed(items) if 0 < len(items) <= MAX_LISTED and all(isinstance(i, str) for i in items) else SET


def json_top_level(body: bytes) -> dict[str, object]:
    """{key: value} of a JSON object body; non-string values become SET."""
    try:
        document = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):  # RecursionError: nested past the parser's depth
        return {}
    return _top_level(document)


class PassedRoles(NamedTuple):
    """What a JSON body passes inside its structures and lists (not at its top level)."""

    arns: tuple[str, ...]  # IAM role ARNs under a `...RoleArn` key, at most MAX_LISTED, MAX_NESTING deep
    holders: frozenset[str]  # top-level keys with a key naming a role inside (`names_a_role`), at any depth
    unread: frozenset[str]  # of those, the ones with such a key whose value is no role ARN read in `arns`


def json_passed_roles(body: bytes) -> PassedRoles | None:
    """The roles a JSON object body passes inside its structures (EventBridge's `Targets[].RoleArn`), which of
    its top-level members hold a key naming one at all, and which hold one that went unread (a role's name,
    an instance profile); None when the body is no JSON object."""
    try:
        document = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    arns: dict[str, None] = {}
    holders, unread = set(), set()
    for key, value in document.items():
        held, all_read = _roles_in(value, arns)
        if held:
            holders.add(key)
        if not all_read:
            unread.add(key)
    return PassedRoles(tuple(arns), frozenset(holders), frozenset(unread))


def _roles_in(value: Any, arns: dict[str, None]) -> tuple[bool, bool]:
    """Whether `value` has a key naming a role at any depth, and whether each such key's value is an IAM role
    ARN read into `arns` (under a `...RoleArn` key, at most MAX_NESTING deep, MAX_LISTED in all). Iterative:
    the body is at most MAX_BODY, so the walk is bounded by its size."""
    held, all_read = False, True
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if isinstance(item, dict):
            for key, inner in item.items():
                if names_a_role(key):
                    held = True
                    all_read = _read_role(key, inner, depth, arns) and all_read
                if isinstance(inner, dict | list):
                    pending.append((inner, depth + 1))
        elif isinstance(item, list):
            pending.extend((inner, depth + 1) for inner in item)
    return held, all_read


def _read_role(key: str, value: object, depth: int, arns: dict[str, None]) -> bool:
    if not (key.lower().endswith("rolearn") and isinstance(value, str) and is_role_arn(value)):
        return False
    if depth <= MAX_NESTING and (value in arns or len(arns) < MAX_LISTED):
        arns[value] = None
        return True
    return False


def form_top_level(body: bytes, truncated: bool = False) -> dict[str, object]:
    """{top-level name: value} of an x-www-form-urlencoded body (query/ec2 protocols).

    `Attribute.1.Name=x` sets the top-level name `Attribute` (to SET). A body cut at MAX_BODY still yields
    its complete pairs: its last, possibly cut, pair is dropped."""
    return form_pairs_top_level(form_pairs(body, truncated))


def form_pairs(body: bytes, truncated: bool = False) -> list[tuple[str, str]]:
    """The decoded (name, value) pairs of a form body; of a cut body, only the complete ones."""
    text = body.decode("utf-8", "replace")
    if truncated:
        text = text.rsplit("&", 1)[0]
    return parse_qsl(text, keep_blank_values=True)


def form_pairs_top_level(pairs: list[tuple[str, str]]) -> dict[str, object]:
    """A list of strings (`InstanceId.1=a&InstanceId.2=b`, the query protocol's `Ids.member.1=a`) is `Listed`;
    any other dotted name (`Attribute.1.Name=x`) makes its top-level name SET."""
    values: dict[str, object] = {}
    items: dict[str, list[str] | None] = {}
    for name, value in pairs:
        top, dot, rest = name.partition(".")
        if dot:
            values.setdefault(top, SET)
            index = rest.removeprefix("member.")
            listed = items.setdefault(top, [])
            if listed is not None and index.isdigit() and index.isascii() and len(listed) < MAX_LISTED:
                listed.append(value)
            else:  # a structure's field, or a list too long to read
                items[top] = None
        else:
            values.setdefault(name, value)
    for top, listed in items.items():
        if listed is not None and values[top] is SET:
            values[top] = _listed(listed)
    return values


def xml_children(body: bytes) -> tuple[str | None, dict[str, object]]:
    """The root element's local name and {child local name: text or SET} of an XML body."""
    if not body.strip():
        return None, {}
    try:
        root = ElementTree.fromstring(body)  # expat: no external entities, bounded entity expansion
    except ElementTree.ParseError:
        return None, {}
    children: dict[str, object] = {}
    for child in root:
        name = _local_name(child.tag)
        leaf = len(child) == 0
        children.setdefault(name, (child.text or "") if leaf else SET)
    return _local_name(root.tag), children


def cbor_top_level(body: bytes) -> dict[str, object]:
    """{key: value} of a CBOR map body (rpc-v2-cbor), decoded with botocore's CBOR parser."""
    if not body:
        return {}
    try:
        from botocore.parsers import BaseCBORParser

        parser = BaseCBORParser()
        document = parser.parse_data_item(io.BufferedReader(io.BytesIO(body)))
    except Exception:  # botocore raises assorted errors on malformed or cut CBOR
        return {}
    return _top_level(document)


def _top_level(document: Any) -> dict[str, object]:
    if not isinstance(document, dict):
        return {}
    return {
        str(key): value
        if isinstance(value, str)
        else _listed(value)
        if isinstance(value, list)
        else _keys(value)
        if isinstance(value, dict)
        else SET
        for key, value in document.items()
    }


def _local_name(tag: str) -> str:
    return tag.rsplit("}", 1)[-1]
