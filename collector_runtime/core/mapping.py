"""CSM `Service`/`Api` pairs to the IAM actions they need, from the generated mapping data.

Pure: the data is passed in (see `collector_runtime.data` for loading the packaged file).
An operation that cannot be mapped comes back as an `OperationMapping` whose `source` is
"unmapped", so callers report it instead of dropping it or inventing an action.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

UNMAPPED = "unmapped"
_DATE_SUFFIX = re.compile(r"\d{4}_\d{2}_\d{2}$")
_ACTION = re.compile(r"^([a-z0-9-]+):([A-Za-z0-9-]+)$")


@dataclass(frozen=True, slots=True)
class OperationMapping:
    service: str
    api: str
    actions: tuple[str, ...]
    dependent: tuple[str, ...] = ()
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

    def as_dict(self) -> dict[str, Any]:
        return {
            "service": self.service,
            "api": self.api,
            "actions": list(self.actions),
            "dependent_actions": list(self.dependent),
            "source": self.source,
            "note": self.note,
        }


def _normalise(name: str) -> str:
    return re.sub(r"[\s_-]", "", name).lower()


class ActionMap:
    """Lookups over the generated data: services by serviceId (or a unique alias), operations by wire name."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.inputs: dict[str, str] = dict(data.get("inputs", {}))
        self._services: dict[str, dict[str, Any]] = data["services"]
        self._service_index: dict[str, str] = {}
        for service_id, record in self._services.items():
            for alias in [service_id, *record.get("aliases", [])]:
                self._service_index.setdefault(_normalise(alias), service_id)
        self._api_index: dict[str, dict[str, str]] = {}
        self._valid: dict[str, dict[str, str]] = {
            prefix: {name.lower(): name for name in names} for prefix, names in data["iam_actions"].items()
        }
        self._s3_scopes: dict[str, str] = data.get("s3_scopes", {})
        self._cache: dict[tuple[str, str], OperationMapping] = {}

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
        mapping = self._build(service, service_id, api, self._services[service_id]["operations"][wire_name])
        self._cache[(service, api)] = mapping  # only known operations are cached: the cache stays bounded
        return mapping

    def resolve_service(self, service: str) -> str | None:
        if service in self._services:
            return service
        return self._service_index.get(_normalise(service))

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

    @staticmethod
    def _build(service: str, service_id: str, api: str, record: dict[str, Any]) -> OperationMapping:
        return OperationMapping(
            service=service,
            service_id=service_id,
            api=api,
            actions=tuple(record["actions"]),
            dependent=tuple(record.get("dependent", ())),
            source=record["source"],
            note=record.get("note"),
            other_resource=frozenset(record.get("other_resource", ())),
        )

    def canonical_action(self, action: str) -> str | None:
        """The reference spelling of a valid IAM action, or None if the reference does not know it."""
        match = _ACTION.match(action)
        if not match:
            return None
        prefix, name = match.groups()
        canonical = self._valid.get(prefix, {}).get(name.lower())
        return f"{prefix}:{canonical}" if canonical else None

    def all_actions(self) -> list[str]:
        return [f"{prefix}:{name}" for prefix, names in self._valid.items() for name in names.values()]

    def actions_of(self, prefix: str) -> list[str]:
        return [f"{prefix}:{name}" for name in self._valid.get(prefix, {}).values()]

    def s3_scope(self, action: str) -> str | None:
        """'bucket' or 'object' for S3 actions that act on one; None for account-level ones."""
        return self._s3_scopes.get(action)
