"""An intercepted request and its response as an `ObservedCall`: the proxy source's records. Pure.

    recorder = CallRecorder(ServiceModels(), action_map)
    call = recorder.record(request, proxy_user, read_response(status, headers, body), time_ms)

Workload: the proxy user name (`HTTPS_PROXY=http://ci-deploy:x@127.0.0.1:10080`), else the principal an
STS response in the traffic named for the signing key (`principals`: an assumed role's session by its role),
else a name for the key (`credentials.name_of_key`: a temporary key by its account, a long-term key by its
account and a hash of the key id, never the key), else the default workload. The account is the key id's,
else the one an STS response named for the key. Service, operation and region come from the matcher;
resources are the ARNs the request's identifiers fill (`core.identifier_arns`), plus those an AccessDenied
names; request members are the input members the request set (names only). A request the matcher cannot
place is recorded as an operation the mapping does not know, so it is reported as unmapped (stats.json,
live view), never guessed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, fields
from typing import Any

from collector_runtime.core.arns import is_role_arn
from collector_runtime.core.identifier_arns import (
    COPY_SOURCE_VERSION,
    UNREAD,
    copy_source,
    listed_arns,
    resource_arns,
    unread_types,
)
from collector_runtime.core.mapping import PASS_ROLE, ActionMap, OperationMapping
from collector_runtime.core.names import MAX_WORKLOAD
from collector_runtime.core.records import DEFAULT_WORKLOAD, FAILED, PROXY, ObservedCall
from collector_runtime.core.saved_counts import saved_count
from collector_runtime.core.wildcard import literal
from collector_runtime.sources.proxy.credentials import access_key_id, key_hash, name_of_key
from collector_runtime.sources.proxy.identifier_allowlist import response_identifiers
from collector_runtime.sources.proxy.matcher import MatchedCall, UnmatchedCall, match_request
from collector_runtime.sources.proxy.nested_names import unread_names
from collector_runtime.sources.proxy.principals import Principal, Principals
from collector_runtime.sources.proxy.request import HttpRequest
from collector_runtime.sources.proxy.responses import ResponseInfo
from collector_runtime.sources.proxy.service_models import ServiceModels

UNKNOWN_SERVICE = "unknown"
UNREAD_ROLE = f"{UNREAD}iam/role"  # a passed role the request names where the proxy did not read it
_PRINTABLE = re.compile(r"^[\x21-\x7e][\x20-\x7e]*$")
_SIGNING_NAME = re.compile(r"^[a-z0-9-]{1,64}$")
_METHOD = re.compile(r"^[A-Z]{1,16}$")
NO_RESPONSE = ResponseInfo(0, FAILED, None)  # the request got no response (upstream unreachable, cut off)


@dataclass
class ProxyCounters:
    """What the proxy saw, for stats.json (`proxy`) and /metrics."""

    requests_intercepted: int = 0  # AWS requests recorded
    requests_matched: int = 0
    requests_unmatched: int = 0  # recorded as unmapped calls
    requests_without_response: int = 0
    tunnels_not_intercepted: int = 0  # CONNECTs to other hosts, tunnelled untouched
    requests_not_intercepted: int = 0  # plain-HTTP requests to other hosts, forwarded untouched
    destinations_refused: int = 0  # CONNECTs, requests and connections refused (destinations.DestinationPolicy)
    internal_errors: int = 0  # a hook failed on a request: passed through, counted
    # What a previous run counted (a restart), kept apart: the proxy's thread counts with plain `+=`, which a
    # restore writing the same fields meanwhile could undo.
    _saved: dict[str, int] = field(default_factory=dict, repr=False, compare=False)

    def as_dict(self) -> dict[str, int]:
        return {name: getattr(self, name) + self._saved.get(name, 0) for name in _PROXY_COUNTERS}

    def add(self, saved: dict[str, Any]) -> None:
        """Continue from totals saved by `as_dict` (a restart); what is not a count is left out."""
        self._saved = {name: self._saved.get(name, 0) + saved_count(saved.get(name, 0)) for name in _PROXY_COUNTERS}


_PROXY_COUNTERS = tuple(item.name for item in fields(ProxyCounters) if not item.name.startswith("_"))


def workload_of(proxy_user: str | None, request: HttpRequest, known: Principal | None = None) -> str:
    """The workload a request belongs to (see the module docstring); `known`: its signer, if learned."""
    if proxy_user and len(proxy_user) <= MAX_WORKLOAD and _PRINTABLE.match(proxy_user):
        return proxy_user
    if known is not None and known.name:
        return known.name
    key_id = access_key_id(request)
    return name_of_key(key_id) if key_id else DEFAULT_WORKLOAD


MAX_REMEMBERED = 4_096  # (prefix, unread names) combinations remembered


class CallRecorder:
    def __init__(self, service_models: ServiceModels, action_map: ActionMap) -> None:
        self.service_models = service_models
        self.action_map = action_map
        self.counters = ProxyCounters()
        self.principals = Principals()
        self._unread: dict[tuple[str, frozenset[str]], tuple[str, ...]] = {}  # unread types, by prefix and names

    def record(
        self, request: HttpRequest, proxy_user: str | None, response: ResponseInfo, time_ms: int | None = None
    ) -> ObservedCall:
        self.counters.requests_intercepted += 1
        if response is NO_RESPONSE:
            self.counters.requests_without_response += 1
        key_id = access_key_id(request)
        signer = key_hash(key_id) if key_id else None
        del key_id
        if response.caller is not None:
            self.principals.learn(signer, response.caller)
        known = self.principals.of(signer)
        workload = workload_of(proxy_user, request, known)
        found = match_request(request, self.service_models)
        if known is not None and known.account and found.account is None:
            found = found._replace(account=known.account)  # a key id that encodes no account
        if isinstance(found, UnmatchedCall):
            self.counters.requests_unmatched += 1
            return unmatched_call(found, request.method, workload, response, time_ms)
        self.counters.requests_matched += 1
        return self.matched_call(found, workload, response, time_ms)

    def matched_call(
        self, found: MatchedCall, workload: str, response: ResponseInfo, time_ms: int | None
    ) -> ObservedCall:
        prefix = self.action_map.prefix_of(found.service)
        formats = self.action_map.formats_of(prefix) if prefix else {}
        mapping = self.action_map.lookup(found.service, found.operation)
        own = self.action_map.own_placeholder(mapping)
        operation = self.service_models.operation_model(found.service_name, found.operation)
        identifiers = {**found.identifiers, **self._response_identifiers(found, operation, response)}
        named = resource_arns(formats, identifiers, region=found.region, account=found.account, own=own)
        for element, items in found.listed.items():
            named += listed_arns(
                formats, element, items, region=found.region, account=found.account, context=found.identifiers
            )
        if prefix and operation is not None:
            named += self._unread_types(prefix, formats, unread_names(operation, found.members))
        named += tuple(literal(role) for role in found.passed_roles)  # what iam:PassRole is authorized on
        named += passed_role_unread(mapping, found)
        members = (found.members - passing_no_role(mapping, found.roleless)) | copy_source_members(
            found.identifiers, found.region
        )
        return ObservedCall(
            workload=workload,
            source=PROXY,
            service=found.service,
            operation=found.operation,
            region=found.region,
            account=found.account,
            outcome=response.outcome,
            error_code=response.error_code,
            denied_actions=response.denied_actions,
            resources=tuple(dict.fromkeys((*named, *response.denied_resources))),
            request_members=members,
            time_ms=time_ms,
        )

    def _unread_types(self, prefix: str, formats: dict[str, list[str]], names: frozenset[str]) -> tuple[str, ...]:
        """`unread_types`, remembered: an operation's requests set few combinations of members, and reading
        them against EC2's formats takes ~100 µs."""
        if not names:
            return ()
        key = (prefix, names)
        known = self._unread.get(key)
        if known is None:
            if len(self._unread) >= MAX_REMEMBERED:
                self._unread.clear()
            known = self._unread[key] = unread_types(prefix, formats, names)
        return known

    @staticmethod
    def _response_identifiers(found: MatchedCall, operation: Any, response: ResponseInfo) -> dict[str, str]:
        """The identifiers a successful response names that the request did not (KMS by alias: the key's
        ARN; a create call: the new resource's ARN), read through the operation's output shape."""
        if not response.values or operation is None:
            return {}
        named = response_identifiers(operation, response.values)
        return {
            f"response.{member}": value for member, value in named.items() if found.identifiers.get(member) != value
        }


def passed_role_unread(mapping: OperationMapping, found: MatchedCall) -> tuple[str, ...]:
    """`unread:iam/role` when the request set a member that passes a role and the role went unread: a role's
    name, an instance profile (IAM checks the role inside it), a structure's role key that holds no role ARN.
    The scoper then grants every role beside those read: a role read must not narrow PassRole to itself
    (EMR `RunJobFlow`: `ServiceRole` by ARN, `JobFlowRole` an instance profile)."""
    for member in mapping.pass_role_members:
        if member not in found.members or member in found.roleless or member in found.roles_read:
            continue
        value = found.identifiers.get(member)
        if value is None or not is_role_arn(value):
            return (UNREAD_ROLE,)
    return ()


def passing_no_role(mapping: OperationMapping, roleless: frozenset[str]) -> frozenset[str]:
    """The structures a request set that can hold a role but held none, where iam:PassRole is the only action
    they need: left out of the call's members, so the request is not taken to have passed a role (a
    PutTargets whose target has no `RoleArn` is granted no PassRole on every role)."""
    if not roleless:
        return frozenset()
    needs = [item for item in mapping.may_need if roleless.intersection(item.when)]
    return frozenset(
        member
        for member in roleless
        if all(item.action == PASS_ROLE for item in needs if member in item.when)
        and any(member in item.when for item in needs)
    )


def copy_source_members(identifiers: dict[str, str], region: str | None) -> frozenset[str]:
    """COPY_SOURCE_VERSION when S3's copy source names a version (the read needs s3:GetObjectVersion)."""
    value = identifiers.get("CopySource")
    source = copy_source(value, region) if value else None
    return frozenset({COPY_SOURCE_VERSION}) if source and source.versioned else frozenset()


def unmatched_call(
    found: UnmatchedCall, method: str, workload: str, response: ResponseInfo, time_ms: int | None
) -> ObservedCall:
    """An operation no mapping knows: `s3` / `PUT (no operation matches)`; only checked names, no values."""
    signing_name = found.signing_name if found.signing_name and _SIGNING_NAME.match(found.signing_name) else None
    verb = method if _METHOD.match(method) else "request"
    return ObservedCall(
        workload=workload,
        source=PROXY,
        service=signing_name or UNKNOWN_SERVICE,
        operation=f"{verb} ({found.reason})",
        region=found.region,
        account=found.account,
        outcome=response.outcome,
        error_code=response.error_code,
        time_ms=time_ms,
    )
