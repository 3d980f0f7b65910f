"""Service models in botocore's format: botocore's own, and those of services only older SDKs still call.

CSM's `Service` is the sending SDK's model `serviceId`. botocore's models give the current ones; the
AWS SDK for JavaScript v2 and the Go SDK v1 (`other_sdks`) add the old `serviceId`s of renamed services
(aliases of the botocore service with the same endpoint prefix) and services botocore has dropped
(services of their own, mapped with the same rules from that SDK's model).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

BOTOCORE = "botocore"


@dataclass(frozen=True)
class ServiceModel:
    service_id: str
    client: str  # botocore's client name; for other SDKs their own name of the service
    model: dict[str, Any]
    origin: str = BOTOCORE
    aliases: frozenset[str] = field(default_factory=frozenset)

    @property
    def endpoint_prefix(self) -> str:
        return str(self.model["metadata"].get("endpointPrefix", ""))


def botocore_models() -> list[ServiceModel]:
    import botocore.session

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    models = []
    for name in sorted(session.get_available_services()):
        model = loader.load_service_model(name, "service-2")
        models.append(ServiceModel(model["metadata"]["serviceId"], name, model, aliases=_aliases(name, model)))
    return models


def _aliases(name: str, model: dict[str, Any]) -> frozenset[str]:
    meta = model["metadata"]
    candidates = {name, meta.get("endpointPrefix", ""), meta["serviceId"].replace(" ", "")}
    return frozenset(c for c in candidates if c and c != meta["serviceId"])


@dataclass
class OtherSdkServices:
    """What one other SDK adds: old serviceIds per botocore serviceId, and services botocore dropped."""

    aliases: dict[str, set[str]] = field(default_factory=dict)
    dropped: list[ServiceModel] = field(default_factory=list)


def merge_other_sdk(botocore: list[ServiceModel], others: list[ServiceModel]) -> OtherSdkServices:
    """Sort another SDK's services into renamed (same endpoint prefix as a botocore service) and dropped."""
    known_ids = {m.service_id for m in botocore}
    by_endpoint: dict[str, set[str]] = {}
    for model in botocore:
        by_endpoint.setdefault(model.endpoint_prefix, set()).add(model.service_id)
    merged = OtherSdkServices()
    dropped_ids: set[str] = set()
    for other in others:
        if other.service_id in known_ids or other.service_id in dropped_ids:
            continue
        owners = by_endpoint.get(other.endpoint_prefix, set())
        if len(owners) == 1:
            merged.aliases.setdefault(next(iter(owners)), set()).add(other.service_id)
        else:
            merged.dropped.append(other)
            dropped_ids.add(other.service_id)
    return merged


def with_aliases(models: list[ServiceModel], extra: dict[str, set[str]]) -> list[ServiceModel]:
    return [replace(m, aliases=m.aliases | extra.get(m.service_id, set())) for m in models]
