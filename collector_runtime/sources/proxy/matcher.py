"""Which AWS API call an intercepted request is, and which resources it names. Pure.

    service_models = ServiceModels()
    result = match_request(http_request("PUT", "my-bucket.s3.eu-west-1.amazonaws.com", "/a/b.txt", "tagging",
                                        headers, body), service_models)
    # MatchedCall(service="S3", operation="PutObjectTagging", region="eu-west-1", account="609629065308",
    #             identifiers={"Bucket": "my-bucket", "Key": "a/b.txt"}, members=frozenset({...}), ...)

1. Candidates: the services that sign as the SigV4 scope's signing name (narrowed by the host's endpoint
   prefix when several do); unsigned requests: the X-Amz-Target / rpc-v2 prefix, else the host.
2. Operation, by what the request carries: `X-Amz-Target` (json), `/service/X/operation/Y` (rpc-v2-cbor),
   `Action=` (query, ec2, and json services called the query way), else method + URI template (rest-*).
3. One best match wins. Several services matching alike (RDS, DocumentDB and Neptune share one API) go to
   the service named like the signing name; any other tie, or no match, is an `UnmatchedCall`; so is a request
   whose signature's region is no name a region could have (`*` would otherwise reach the policy's ARNs).
"""

from __future__ import annotations

import re
from typing import Any, NamedTuple

from collector_runtime.core.arns import is_region_name
from collector_runtime.sources.proxy import bodies
from collector_runtime.sources.proxy import members as enc
from collector_runtime.sources.proxy.credentials import CredentialScope, credential_scope, sigv2_account
from collector_runtime.sources.proxy.identifier_allowlist import identifiers_of, listed_identifiers_of
from collector_runtime.sources.proxy.operations import OperationTable
from collector_runtime.sources.proxy.request import HttpRequest, is_form
from collector_runtime.sources.proxy.routes import Route, best_routes
from collector_runtime.sources.proxy.s3_hosts import (
    access_point_arn,
    is_express_control_host,
    s3_path,
    through_access_point,
)
from collector_runtime.sources.proxy.service_models import ServiceModels, ServiceSummary
from collector_runtime.sources.proxy.stored_lowercase import lowercased

_RPC_V2_PATH = re.compile(r"^/service/([^/]+)/operation/([^/]+)$")
_EXACT = (1 << 30, 0, 0, 0)  # the specificity of a match by name (target, action, rpc-v2 path)
# Signing names that are another name for a service's own (S3 Express One Zone signs as "s3express").
SIGNING_ALIASES = {"s3express": "s3", "s3-object-lambda": "s3"}

# Why a request is unmatched
NO_SERVICE = "no service signs as this name"
NO_OPERATION = "no operation matches"
AMBIGUOUS = "several operations match equally"
NO_REGION = "the signature names no region"  # its scope's region is no name a region could have ("*")


class MatchedCall(NamedTuple):
    service: str  # botocore serviceId ("S3"), as ObservedCall.service
    operation: str  # the operation's wire name ("PutObjectTagging")
    region: str | None
    account: str | None
    identifiers: dict[str, str]  # member name -> value, identifier-like members only (identifier_allowlist.py)
    members: frozenset[str]  # top-level input members the request set (names only)
    service_name: str  # botocore's service name ("s3"), to load its model again
    listed: dict[str, tuple[str, ...]]  # list members' identifiers, by element ({"InstanceId": ("i-1", "i-2")})
    passed_roles: tuple[str, ...] = ()  # role ARNs passed inside the request's structures (Targets[].RoleArn)
    roleless: frozenset[str] = frozenset()  # structures set that may hold a role and held none (members.py)
    roles_read: frozenset[str] = frozenset()  # structures set whose every role was read (in passed_roles)


class UnmatchedCall(NamedTuple):
    signing_name: str | None
    region: str | None
    account: str | None
    reason: str  # NO_SERVICE, NO_OPERATION or AMBIGUOUS
    tried: tuple[str, ...]  # the services tried, or "service.Operation" of a tie


class _Candidate(NamedTuple):
    service: ServiceSummary
    operation: Any  # botocore OperationModel
    encoding: str
    labels: dict[str, str]
    specificity: tuple[int, int, int, int]


def match_request(request: HttpRequest, service_models: ServiceModels) -> MatchedCall | UnmatchedCall:
    """The call a request makes, or why it cannot be told (never a guess)."""
    scope = credential_scope(request)
    if scope is not None and scope.region is not None and not is_region_name(scope.region):
        return _unmatched(scope._replace(region=None), NO_REGION, ())  # its region would reach the ARNs
    services = candidate_services(request, scope, service_models)
    if not services:
        return _unmatched(scope, NO_SERVICE, ())
    found = [
        c for service in services for c in _operations_matching(request, service, service_models.operations(service))
    ]
    best = _best(found, scope)
    if len(best) != 1:
        tried = tuple(f"{c.service.name}.{c.operation.name}" for c in best) or tuple(s.name for s in services)
        return _unmatched(scope, AMBIGUOUS if best else NO_OPERATION, tried)
    return _matched(request, scope, best[0])


def candidate_services(
    request: HttpRequest, scope: CredentialScope | None, service_models: ServiceModels
) -> tuple[ServiceSummary, ...]:
    if scope is not None:
        signing_name = SIGNING_ALIASES.get(scope.signing_name, scope.signing_name)
        signing = _narrow_by_host(service_models.by_signing_name(signing_name), request.host)
        return signing or _services_of_host(request.host, service_models)  # a region-specific signing name
    prefix = _named_target_prefix(request)
    if prefix is not None:
        return service_models.by_target_prefix(prefix)
    return _services_of_host(request.host, service_models)


def _operations_matching(request: HttpRequest, service: ServiceSummary, table: OperationTable) -> list[_Candidate]:
    target = request.header("x-amz-target")
    if target is not None:
        prefix, _, name = target.rpartition(".")
        return _by_name(service, table, name, enc.JSON) if prefix == service.target_prefix else []
    rpc_v2 = _RPC_V2_PATH.match(request.path) if request.method == "POST" else None
    if rpc_v2 is not None:
        prefix, name = rpc_v2.groups()
        return _by_name(service, table, name, enc.CBOR) if prefix == service.target_prefix else []
    action = _action(request)
    if action is not None:
        return _by_action(request, service, table, action)
    return _by_route(request, service, table)


def _by_name(service: ServiceSummary, table: OperationTable, name: str, encoding: str) -> list[_Candidate]:
    operation = table.operation(name)
    return [] if operation is None else [_Candidate(service, operation, encoding, {}, _EXACT)]


def _by_action(request: HttpRequest, service: ServiceSummary, table: OperationTable, action: str) -> list[_Candidate]:
    version = _form_value(request, "Version")
    if version is not None and version != service.api_version:
        return []
    encoding = enc.EC2 if "ec2" in table.protocols else enc.QUERY
    return _by_name(service, table, action, encoding)


def _by_route(request: HttpRequest, service: ServiceSummary, table: OperationTable) -> list[_Candidate]:
    if not table.is_rest:
        return []
    path, routes = request.path, table.routes
    if service.name == "s3":
        path, routes = s3_path(request.host, request.path), _s3_routes(request.host, table)
    query = dict(reversed(request.query_pairs()))  # the first value of a repeated name wins
    encoding = enc.REST_JSON if "rest-json" in table.protocols else enc.REST_XML
    matches = best_routes(routes, request.method, path, query, request.headers)
    if not matches and _is_form_post(request):  # botocore sends CloudSearch Domain's GET Search as a form POST
        query = {**dict(reversed(bodies.form_pairs(request.body, request.body_truncated))), **query}
        matches = best_routes(routes, "GET", path, query, request.headers)
    return [
        _Candidate(service, table.model.operation_model(route.operation), encoding, labels, route.specificity())
        for route, labels in matches
    ]


def _s3_routes(host: str, table: OperationTable) -> tuple[Route, ...]:
    """S3's routes for this host: on the S3 Express control endpoint its operations, elsewhere all but those
    only it serves."""
    if is_express_control_host(host):
        return tuple(route for route in table.routes if route.operation in table.s3_express_control)
    return tuple(route for route in table.routes if route.operation not in table.s3_express_control_only)


def _best(found: list[_Candidate], scope: CredentialScope | None) -> list[_Candidate]:
    if not found:
        return []
    top = max(c.specificity for c in found)
    best = [c for c in found if c.specificity == top]
    if len({c.service.name for c in best}) > 1 and scope is not None:
        primary = [c for c in best if c.service.name == SIGNING_ALIASES.get(scope.signing_name, scope.signing_name)]
        best = primary or best
    if len(best) > 1:  # S3 GetBucketLifecycle and GetBucketLifecycleConfiguration send the same request
        current = [c for c in best if not c.operation.deprecated]
        best = current if len(current) == 1 else best
    return best


def _matched(request: HttpRequest, scope: CredentialScope | None, found: _Candidate) -> MatchedCall:
    read = enc.request_members(found.operation, found.encoding, request, found.labels)
    identifiers = identifiers_of(found.operation, read.values, read.uri_members)
    if found.service.name == "s3" and (access_point := access_point_arn(request.host)) is not None:
        identifiers = through_access_point(identifiers, access_point)
    return MatchedCall(
        service=found.service.service_id,
        operation=found.operation.wire_name,
        region=scope.region if scope else None,
        account=scope.account if scope else sigv2_account(request),
        identifiers=lowercased(found.operation, identifiers),
        listed=listed_identifiers_of(found.operation, read.lists),
        members=read.names,
        passed_roles=read.passed_roles,
        roleless=read.roleless,
        roles_read=read.roles_read,
        service_name=found.service.name,
    )


def _unmatched(scope: CredentialScope | None, reason: str, tried: tuple[str, ...]) -> UnmatchedCall:
    if scope is None:
        return UnmatchedCall(None, None, None, reason, tried)
    return UnmatchedCall(scope.signing_name, scope.region, scope.account, reason, tried)


def _narrow_by_host(services: tuple[ServiceSummary, ...], host: str) -> tuple[ServiceSummary, ...]:
    """Of several services signing alike, those whose endpoint prefix is in the host (all if none is)."""
    if len(services) < 2:
        return services
    in_host = tuple(s for s in services if _host_has_prefix(host, s.endpoint_prefix))
    return in_host or services


def _host_has_prefix(host: str, endpoint_prefix: str) -> bool:
    """The endpoint prefix is in the host, also as an endpoint-discovery cell: Timestream's "query.timestream"
    in "query-cell1.timestream.eu-west-1.amazonaws.com"."""
    if host.startswith(endpoint_prefix + ".") or f".{endpoint_prefix}." in host:
        return True
    first, _, rest = endpoint_prefix.partition(".")
    host_first, _, host_rest = host.partition(".")
    return bool(rest) and host_first.startswith(first + "-") and host_rest.startswith(rest + ".")


def _services_of_host(host: str, service_models: ServiceModels) -> tuple[ServiceSummary, ...]:
    labels = host.split(".")
    for start in range(len(labels) - 2):
        for width in (2, 1):  # "runtime.sagemaker" before "runtime"
            found = service_models.by_endpoint_prefix(".".join(labels[start : start + width]))
            if found:
                return found
    return ()


def _named_target_prefix(request: HttpRequest) -> str | None:
    target = request.header("x-amz-target")
    if target is not None:
        return target.rpartition(".")[0]
    rpc_v2 = _RPC_V2_PATH.match(request.path)
    return rpc_v2.group(1) if rpc_v2 else None


def _is_form_post(request: HttpRequest) -> bool:
    return request.method == "POST" and is_form(request.headers)


def _action(request: HttpRequest) -> str | None:
    return _form_value(request, "Action")


def _form_value(request: HttpRequest, name: str) -> str | None:
    """A query-protocol parameter, from the query string or a form-encoded body."""
    key = name + "="
    if key in request.query:
        for pair_name, value in request.query_pairs():
            if pair_name == name:
                return value
    if _is_form_post(request) or request.body.startswith(key.encode()):
        for pair_name, value in bodies.form_pairs(request.body, request.body_truncated):
            if pair_name == name:
                return value
    return None
