"""REST operations as routes: method + request-URI template + what the request must carry. Pure.

A rest-json / rest-xml operation is `http.method` + `http.requestUri`, e.g. S3 `PUT /{Bucket}?tagging` or
Lambda `POST /2015-03-31/functions/{FunctionName}/invocations`. Several operations often share a template
(S3 `PUT /{Bucket}/{Key+}` is PutObject, CopyObject, UploadPart and UploadPartCopy), and the required
query and header members then tell them apart (UploadPart needs `partNumber` and `uploadId`, CopyObject
`x-amz-copy-source`). A request matches a route when the method and path match, every query literal of the
template is present and every required query and header member is set; of the matching routes the most
specific wins (see `Route.specificity`). Equal specificity is reported as a tie, never broken by guessing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, NamedTuple
from urllib.parse import unquote

_LABEL = re.compile(r"\{([^}+]+)(\+?)\}")
# A smithy hint some SDKs add to S3 requests (`?x-id=GetObject`); botocore's templates do not all carry it.
_OPTIONAL_QUERY_LITERALS = frozenset({"x-id"})


class Route(NamedTuple):
    operation: str  # the operation's name in the model (botocore's key)
    method: str
    pattern: re.Pattern[str]  # matches the raw path; one group per label, in `labels` order
    labels: tuple[str, ...]  # the URI label names ("Bucket", "Key")
    query_literals: tuple[tuple[str, str | None], ...]  # from "?tagging" / "?list-type=2"
    required_query: tuple[str, ...]  # serialized names of required querystring members
    required_headers: tuple[str, ...]  # lower-case names of required header members
    literal_length: int  # characters of the path template outside labels
    greedy_labels: int

    def specificity(self) -> tuple[int, int, int, int]:
        """Higher is more specific: more literal path, more query literals, more required query and header
        members (all present, or the route would not match), fewer greedy labels."""
        return (
            self.literal_length,
            len(self.query_literals),
            len(self.required_query) + len(self.required_headers),
            -self.greedy_labels,
        )


def compile_route(name: str, operation: Any) -> Route:
    """The route of a botocore OperationModel (rest-json / rest-xml)."""
    http = operation.http
    path_template, _, query_template = str(http.get("requestUri", "/")).partition("?")
    pattern, labels, literal_length, greedy = _path_pattern(path_template)
    required_query, required_headers = _required_locations(operation)
    return Route(
        operation=name,
        method=str(http.get("method", "POST")).upper(),
        pattern=pattern,
        labels=labels,
        query_literals=_query_literals(query_template),
        required_query=required_query,
        required_headers=required_headers,
        literal_length=literal_length,
        greedy_labels=greedy,
    )


def _path_pattern(template: str) -> tuple[re.Pattern[str], tuple[str, ...], int, int]:
    parts: list[str] = []
    labels: list[str] = []
    position = literal_length = greedy = 0
    for match in _LABEL.finditer(template):
        literal = template[position : match.start()]
        parts.append(re.escape(literal))
        literal_length += len(literal)
        labels.append(match.group(1))
        is_greedy = bool(match.group(2))
        greedy += is_greedy
        parts.append("(.+)" if is_greedy else "([^/]+)")
        position = match.end()
    tail = template[position:]
    literal_length += len(tail)
    parts.append(re.escape(tail.rstrip("/")) + "/?" if tail.endswith("/") or not tail else re.escape(tail))
    return re.compile("^" + "".join(parts) + "$"), tuple(labels), literal_length, greedy


def _query_literals(query_template: str) -> tuple[tuple[str, str | None], ...]:
    literals = []
    for item in filter(None, query_template.split("&")):
        key, has_value, value = item.partition("=")
        if key not in _OPTIONAL_QUERY_LITERALS:
            literals.append((key, value if has_value else None))
    return tuple(literals)


def _required_locations(operation: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    shape = operation.input_shape
    if shape is None:
        return (), ()
    required = set(shape.required_members)
    query, headers = [], []
    for member_name, member in shape.members.items():
        if member_name not in required:
            continue
        location = member.serialization.get("location")
        serialized_name = member.serialization.get("name", member_name)
        if location == "querystring":
            query.append(serialized_name)
        elif location == "header":
            headers.append(serialized_name.lower())
    return tuple(sorted(query)), tuple(sorted(headers))


def match_route(
    route: Route, method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> dict[str, str] | None:
    """The decoded URI label values if the request fits the route, else None."""
    if route.method != method:
        return None
    found = route.pattern.match(path)
    if found is None:
        return None
    for key, value in route.query_literals:
        if key not in query or (value is not None and query[key] != value):
            return None
    if any(name not in query for name in route.required_query):
        return None
    if any(name not in headers for name in route.required_headers):
        return None
    return {label: unquote(value) for label, value in zip(route.labels, found.groups(), strict=True)}


def best_routes(
    routes: tuple[Route, ...], method: str, path: str, query: Mapping[str, str], headers: Mapping[str, str]
) -> list[tuple[Route, dict[str, str]]]:
    """The matching routes of highest specificity (more than one is a tie), with their label values."""
    matches = []
    for route in routes:
        labels = match_route(route, method, path, query, headers)
        if labels is not None:
            matches.append((route, labels))
    if not matches:
        return []
    top = max(route.specificity() for route, _ in matches)
    return [(route, labels) for route, labels in matches if route.specificity() == top]
