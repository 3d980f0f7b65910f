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


def json_passed_roles(body: bytes) -> PassedRoles | None:
    """The roles a JSON object body passes inside its structures (EventBridge's `Targets[].RoleArn`), and which
    of its top-level members hold a key naming one at all; None when the body is no JSON object."""
    try:
        document = json.loads(body) if body.strip() else None
    except (ValueError, UnicodeDecodeError, RecursionError):
        return None
    if not isinstance(document, dict):
        return None
    found: list[str] = []
    for value in document.values():
        _role_arns(value, found, depth=1)
    holders = frozenset(key for key, value in document.items() if _holds_a_role_key(value))
    return PassedRoles(tuple(dict.fromkeys(found))[:MAX_LISTED], holders)


def _holds_a_role_key(value: Any) -> bool:
    """Whether an object inside `value`, at any depth, has a key naming a role (iterative: the body is at most
    MAX_BODY, so the walk is bounded by its size)."""
    pending = [value]
    while pending:
        item = pending.pop()
        if isinstance(item, dict):
            if any(names_a_role(key) for key in item):
                return True
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
    return False


def _role_arns(value: Any, found: list[str], depth: int) -> None:
    if depth > MAX_NESTING or len(found) >= MAX_LISTED:
        return
    items = (
        value.items() if isinstance(value, dict) else (("", item) for item in value) if isinstance(value, list) else ()
    )
    for key, item in items:
        if isinstance(item, str):
            if key.lower().endswith("rolearn") and is_role_arn(item):
                found.append(item)
        else:
            _role_arns(item, found, depth + 1)
        if len(found) >= MAX_LISTED:
            return


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
