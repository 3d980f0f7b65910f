"""Observed operations (a botocore `serviceId` and a wire name) to the IAM actions they need, from the
generated mapping data (see `mapping/generate.py`).

Pure: the data is passed in (see `collector_runtime.data` for loading the packaged file). For each
operation the data says which actions every request needs (`actions`), which a request may also
need and which of its members trigger them (`may_need`), to which services a passed role goes
(`pass_role`), and per action the resource types and their ARN formats. An operation that cannot be
mapped comes back with `source` "unmapped", so callers report it instead of inventing an action.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

UNMAPPED = "unmapped"
PASS_ROLE = "iam:PassRole"
_DATE_SUFFIX = re.compile(r"\d{4}_\d{2}_\d{2}$")
_ACTION = re.compile(r"^([a-z0-9-]+):([A-Za-z0-9-]+)$")


@dataclass(frozen=True, slots=True)
class MayNeed:
    """An action some requests of the operation need: those that set one of `when` (none: no member tells)."""

    action: str
    when: tuple[str, ...] = ()

    def triggered_by(self, members: set[str] | frozenset[str]) -> bool:
        return any(member in members for member in self.when)


@dataclass(frozen=True, slots=True)
class OperationMapping:
    service: str
    api: str
    actions: tuple[str, ...]  # what every request needs
    may_need: tuple[MayNeed, ...] = ()  # what some requests need
    pass_role_services: tuple[str, ...] = ()  # iam:PassedToService values, when the operation passes a role
    pass_role_members: tuple[str, ...] = ()  # the input members that hold the role
    source: str = UNMAPPED
    note: str | None = None
    other_resource: frozenset[str] = frozenset()  # actions on a resource other than the request's target
    service_id: str | None = None  # the botocore serviceId `service` resolved to (None: unknown service)

    @property
    def mapped(self) -> bool:
        return self.source != UNMAPPED

    @property
    def permissionless(self) -> bool:
        return self.mapped and not self.actions

    @property
    def dependent(self) -> tuple[str, ...]:
        """Every action some request may also need."""
        return tuple(item.action for item in self.may_need)

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "api": self.api,
            "actions": list(self.actions),
            "may_need": [{"action": m.action, "when": list(m.when)} for m in self.may_need],
            "pass_role": {"services": list(self.pass_role_services), "members": list(self.pass_role_members)}
            if self.pass_role_services or self.pass_role_members
            else None,
            "source": self.source,
            "note": self.note,
        }


@dataclass(frozen=True, slots=True)
class ResourceType:
    name: str
    required: bool  # every request names one ("*" in AWS's tables); else only some requests do
    formats: tuple[str, ...]  # ARN formats with ${Partition}, ${Region}, ${Account} and named placeholders


def _normalise(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()


class ActionMap:
    """Lookups over the generated data: services by serviceId (or a unique alias), operations by wire name,
    actions by name (case-insensitive, as IAM), resource types by action.

    The sections may be mappings that decode on first read (`collector_runtime.data.layout`): an operation,
    a prefix's resource types and action names are only looked at when a lookup needs them.
    """

    def __init__(self, data: Mapping[str, Any]) -> None:
        self.inputs: dict[str, str] = dict(data.get("inputs", {}))
        self._services: Mapping[str, dict[str, Any]] = data["services"]
        self._service_index: dict[str, str] = {}
        for service_id, record in self._services.items():
            for alias in [service_id, *record.get("aliases", [])]:
                self._service_index.setdefault(_normalise(alias), service_id)
        self._api_index: dict[str, dict[str, str]] = {}
        self._iam_actions: Mapping[str, list[str]] = data["iam_actions"]
        self._valid_by_prefix: dict[str, dict[str, str]] = {}
        self._action_resources: Mapping[str, list[str]] = data.get("action_resources", {})
        self._formats: Mapping[str, dict[str, list[str]]] = data.get("resource_formats", {})
        self._cache: dict[tuple[str, str], OperationMapping] = {}
        self._types: dict[str, tuple[ResourceType, ...]] = {}

    def lookup(self, service: str, api: str) -> OperationMapping:
        cached = self._cache.get((service, api))
        if cached is not None:
            return cached
        service_id = self.resolve_service(service)
        if service_id is None:
            return OperationMapping(service, api, (), note=f"unknown service {service!r}")
        wire_name = self._resolve_api(service_id, api)
        if wire_name is None:
            return OperationMapping(
                service, api, (), note=f"unknown operation {api!r} of {service_id}", service_id=service_id
            )
        mapping = _build(service, service_id, api, self._services[service_id]["operations"][wire_name])
        self._cache[(service, api)] = mapping  # only known operations are cached: the cache stays bounded
        return mapping

    def resolve_service(self, service: str) -> str | None:
        if service in self._services:
            return service
        return self._service_index.get(_normalise(service))

    def prefix_of(self, service: str) -> str | None:
        """The IAM prefix of a service (by serviceId or alias): whose ARN formats its resources have."""
        service_id = self.resolve_service(service)
        return self._services[service_id].get("prefix") if service_id else None

    def _resolve_api(self, service_id: str, api: str) -> str | None:
        operations = self._services[service_id]["operations"]
        if api in operations:
            return api
        index = self._api_index.get(service_id)
        if index is None:
            index = {}
            for name in operations:
                index.setdefault(name.lower(), name)
                index.setdefault(_DATE_SUFFIX.sub("", name).lower(), name)
            self._api_index[service_id] = index
        return index.get(api.lower()) or index.get(_DATE_SUFFIX.sub("", api).lower())

    def canonical_action(self, action: str) -> str | None:
        """The reference spelling of a valid IAM action, or None if the reference does not know it."""
        match = _ACTION.match(action)
        if not match:
            return None
        prefix, name = match.groups()
        canonical = self._valid(prefix).get(name.lower())
        return f"{prefix}:{canonical}" if canonical else None

    def _valid(self, prefix: str) -> dict[str, str]:
        """The action names of an IAM prefix by their lower-case spelling (indexed on first use)."""
        valid = self._valid_by_prefix.get(prefix)
        if valid is None:
            valid = {name.lower(): name for name in self._iam_actions.get(prefix, ())}
            if valid:  # only prefixes the reference knows are kept: the index stays bounded
                self._valid_by_prefix[prefix] = valid
        return valid

    def all_actions(self) -> list[str]:
        return [action for prefix in self._iam_actions for action in self.actions_of(prefix)]

    def actions_of(self, prefix: str) -> list[str]:
        return [f"{prefix}:{name}" for name in self._valid(prefix).values()]

    def resource_types(self, action: str) -> tuple[ResourceType, ...]:
        """The resource types an action is authorized on, with their ARN formats (none: only "*")."""
        known = self._types.get(action)
        if known is None:
            prefix = action.partition(":")[0]
            formats = self._formats.get(prefix, {})
            known = tuple(
                ResourceType(kind.rstrip("*"), kind.endswith("*"), tuple(formats.get(kind.rstrip("*"), ())))
                for kind in self._action_resources.get(action, ())
            )
            known = tuple(kind for kind in known if kind.formats)
            self._types[action] = known
        return known

    def formats_of(self, prefix: str) -> dict[str, list[str]]:
        """Every resource type of an IAM prefix and its ARN formats (to read ARNs a source names)."""
        return self._formats.get(prefix, {})

    def own_placeholder(self, mapping: OperationMapping) -> str | None:
        """The one name placeholder of the resources an operation's actions always act on (Step Functions
        CreateStateMachine: `StateMachineName`), which a generic `Name`/`name` member fills; None when there
        are several (KMS CreateAlias: an alias and a key) or none, and when it is no name of the resource the
        operation is named after: AppSync UpdateApi's `name` is the API's new name, never its `${ApiId}`;
        Connect DeletePredefinedAttribute's `Name`, the attribute's, never the `${InstanceId}`. Failing that,
        the one inner name of such a resource that the operation is named after: Glue GetTable's `Name` fills
        `table/${DatabaseName}/${TableName}`'s `${TableName}`."""
        kinds = [
            kind
            for action in mapping.actions
            if action != PASS_ROLE and action not in mapping.other_resource
            for kind in self.resource_types(action)
        ]
        formats = [_format_names(text) for kind in kinds if kind.required for text in kind.formats]
        if not formats:
            return _common_name(kinds, mapping.api)
        outer = {names[0] for names in formats if names}
        own = outer.pop() if len(outer) == 1 else None
        if own is not None and _names_the_operations_resource(own, mapping.api):
            return own
        inner = {name for names in formats for name in names[1:] if _names_the_operations_resource(name, mapping.api)}
        return inner.pop() if len(inner) == 1 else None


def _common_name(alternatives: list[ResourceType], api: str) -> str | None:
    """Where none is required and several types are alternatives (an EventBridge rule on the default bus,
    `rule/${RuleName}`, or on another, `rule/${EventBusName}/${RuleName}`): the one name of what the operation
    is named after that every alternative's ARN holds."""
    names = [set(_format_names(text)) for kind in alternatives for text in kind.formats]
    common = set.intersection(*names) if len(names) > 1 else set()
    named = {name for name in common if _names_the_operations_resource(name, api)}
    return named.pop() if len(named) == 1 else None


def _names_the_operations_resource(placeholder: str, api: str) -> bool:
    """`CrawlerName` for DeleteCrawler, `ParameterNameWithoutLeadingSlash` for GetParameter, `Name`: a name (not
    an id) of what the operation's name says it acts on."""
    name = placeholder.removesuffix("WithoutLeadingSlash").removesuffix("WithPath")
    return name.endswith("Name") and name.removesuffix("Name").lower() in api.lower()


def _format_names(text: str) -> list[str]:
    return [n for n in re.findall(r"\$\{([A-Za-z0-9]+)\}", text) if n not in ("Partition", "Region", "Account")]


def _build(service: str, service_id: str, api: str, record: dict[str, Any]) -> OperationMapping:
    pass_role = record.get("pass_role") or {}
    return OperationMapping(
        service=service,
        service_id=service_id,
        api=api,
        actions=tuple(record["actions"]),
        may_need=tuple(MayNeed(m["action"], tuple(m.get("when", ()))) for m in record.get("may_need", ())),
        pass_role_services=tuple(pass_role.get("services", ())),
        pass_role_members=tuple(pass_role.get("members", ())),
        source=record["source"],
        note=record.get("note"),
        other_resource=frozenset(record.get("other_resource", ())),
    )
