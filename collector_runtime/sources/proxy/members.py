"""The top-level input members a request set, read back through the operation's botocore model. Pure.

Each member is looked for where its model puts it on the wire: a URI label, a query-string or header
member, or the body (JSON, XML, form or CBOR, as the request was encoded). The result names every member
the request set and carries the values of string members; `identifier_allowlist.py` decides which values may leave.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple

from collector_runtime.sources.proxy import bodies
from collector_runtime.sources.proxy.nested_names import role_holders
from collector_runtime.sources.proxy.request import HttpRequest

# How a request's body is encoded: the wire protocols, by what the matcher saw.
JSON, REST_JSON, REST_XML, QUERY, EC2, CBOR = "json", "rest-json", "rest-xml", "query", "ec2", "smithy-rpc-v2-cbor"


class RequestMembers(NamedTuple):
    values: dict[str, str]  # member name -> value, string members only
    names: frozenset[str]  # every top-level input member the request set
    uri_members: frozenset[str]  # the members that came from URI labels
    lists: dict[str, tuple[str, ...]]  # member name -> its strings (bodies.Listed), or a map's keys (bodies.Keys)
    passed_roles: tuple[str, ...] = ()  # role ARNs inside the body's structures (bodies.json_passed_roles)
    roleless: frozenset[str] = frozenset()  # members set that may hold a role and were read holding none
    roles_read: frozenset[str] = frozenset()  # members set whose every role inside was read (`passed_roles`)


def request_members(
    operation: Any, encoding: str, request: HttpRequest, labels: Mapping[str, str] | None = None
) -> RequestMembers:
    """The input members of `request` for a botocore OperationModel, given how the request was encoded."""
    shape = operation.input_shape
    if shape is None:
        return RequestMembers({}, frozenset(), frozenset(), {})
    found: dict[str, object] = {}
    uri_members = _from_uri(shape, labels or {}, found)
    _from_query_and_headers(shape, request, found)
    _from_body(shape, encoding, request, found)
    values = {name: value for name, value in found.items() if isinstance(value, str)}
    lists = {name: tuple(value) for name, value in found.items() if isinstance(value, bodies.Listed | bodies.Keys)}
    roles, roleless, roles_read = _passed_roles(operation, encoding, request, frozenset(found))
    return RequestMembers(values, frozenset(found), frozenset(uri_members), lists, roles, roleless, roles_read)


def _passed_roles(
    operation: Any, encoding: str, request: HttpRequest, members_set: frozenset[str]
) -> tuple[tuple[str, ...], frozenset[str], frozenset[str]]:
    """The role ARNs a JSON request passes inside the structures it set, where its model has a member that may
    hold a role there (EventBridge's `Targets[].RoleArn`); those structures it read holding none (no key
    naming a role at any depth: a target with no role), and those whose every role it read as an ARN. The
    body is decoded again only for such an operation."""
    shape = operation.input_shape
    holders = role_holders(operation) & members_set
    if encoding not in (JSON, REST_JSON) or request.body_truncated or not holders or shape.serialization.get("payload"):
        return (), frozenset(), frozenset()  # a payload member's body is that member, not the input's members
    passed = bodies.json_passed_roles(request.body)
    if passed is None:
        return (), frozenset(), frozenset()
    in_body = {name: serialized for serialized, name in _body_members(shape, encoding).items()}
    read = {name: in_body[name] for name in holders if name in in_body}
    roleless = frozenset(name for name, key in read.items() if key not in passed.holders)
    roles_read = frozenset(name for name, key in read.items() if key in passed.holders and key not in passed.unread)
    return passed.arns, roleless, roles_read


def _from_uri(shape: Any, labels: Mapping[str, str], found: dict[str, object]) -> list[str]:
    members = []
    for member_name, member in shape.members.items():
        if member.serialization.get("location") == "uri":
            label = member.serialization.get("name", member_name)
            if label in labels:
                found[member_name] = labels[label]
                members.append(member_name)
    return members


def _from_query_and_headers(shape: Any, request: HttpRequest, found: dict[str, object]) -> None:
    query = _first_values(request.query_pairs())
    for member_name, member in shape.members.items():
        location = member.serialization.get("location")
        serialized = member.serialization.get("name", member_name)
        # a querystring *map* member (any other parameter) is not reported: which keys it owns is a guess
        if location == "querystring" and member.type_name != "map" and serialized in query:
            found[member_name] = query[serialized] if member.type_name == "string" else bodies.SET
        elif location == "header" and serialized.lower() in request.headers:
            found[member_name] = request.headers[serialized.lower()] if member.type_name == "string" else bodies.SET
        elif location == "headers" and any(h.startswith(serialized.lower()) for h in request.headers):
            found[member_name] = bodies.SET  # a prefixed header map (S3 x-amz-meta-*)


def _from_body(shape: Any, encoding: str, request: HttpRequest, found: dict[str, object]) -> None:
    payload = shape.serialization.get("payload")
    if payload is not None and encoding in (REST_JSON, REST_XML):
        if request.body or request.body_truncated:
            found[payload] = bodies.SET  # a blob or structure payload: its content is never read
        return
    decoded = _decode_body(encoding, request)
    by_serialized = _body_members(shape, encoding)
    for serialized, value in decoded.items():
        member_name = by_serialized.get(serialized)
        if member_name is not None and member_name not in found:
            found[member_name] = _kept(shape.members[member_name], value)


def _kept(member: Any, value: object) -> object:
    """A string member's string, a list-of-strings member's `Listed`, a map member's `Keys`; anything else
    only SET."""
    if member.type_name == "string" and isinstance(value, str):
        return value
    if member.type_name == "list" and member.member.type_name == "string" and isinstance(value, bodies.Listed):
        return value
    if member.type_name == "map" and isinstance(value, bodies.Keys):
        return value
    return bodies.SET


def _decode_body(encoding: str, request: HttpRequest) -> dict[str, object]:
    if encoding in (QUERY, EC2):
        from_query = bodies.form_pairs_top_level(request.query_pairs()) if request.method == "GET" else {}
        return from_query or bodies.form_top_level(request.body, request.body_truncated)
    if request.body_truncated:
        return {}  # a cut JSON, XML or CBOR document does not decode
    if encoding in (JSON, REST_JSON):
        return bodies.json_top_level(request.body)
    if encoding == CBOR:
        return bodies.cbor_top_level(request.body)
    if encoding == REST_XML:
        return bodies.xml_children(request.body)[1]
    return {}


def _body_members(shape: Any, encoding: str) -> dict[str, str]:
    """{serialized name: member name} of the members that travel in the body."""
    names = {}
    for member_name, member in shape.members.items():
        if member.serialization.get("location"):
            continue
        names[_serialized_name(member_name, member, encoding)] = member_name
    return names


def _serialized_name(member_name: str, member: Any, encoding: str) -> str:
    if encoding == EC2:  # botocore's EC2Serializer: queryName, else capitalised locationName
        if "queryName" in member.serialization:
            return str(member.serialization["queryName"])
        if "name" in member.serialization:
            name = str(member.serialization["name"])
            return name[:1].upper() + name[1:]
        return member_name
    if encoding == CBOR:
        return member_name
    return str(member.serialization.get("name", member_name))


def _first_values(pairs: list[tuple[str, str]]) -> dict[str, str]:
    values: dict[str, str] = {}
    for name, value in pairs:
        values.setdefault(name, value)
    return values
