"""Which botocore services a request can belong to, loaded lazily and cheaply.

Loading all ~440 botocore service models takes ~5.5 s. The matcher needs only each service's `metadata`
to choose candidates (signing name, X-Amz-Target prefix, endpoint prefix), and `metadata` comes first in
every service-2.json: ServiceModels reads just that head of each file (~0.1 s for all services, on first
use) and loads a full model, through botocore's own loader, only for a service a request names.

Reads only botocore's installed model files (never `~/.aws/models` or `AWS_DATA_PATH`, unless a caller
passes a loader that does).
"""

from __future__ import annotations

import codecs
import json
import zlib
from collections import defaultdict
from pathlib import Path
from typing import Any, NamedTuple

from collector_runtime.sources.proxy.operations import OperationTable

_HEAD_CHUNK = 4_096
_DECODER = json.JSONDecoder()


class ServiceSummary(NamedTuple):
    """What a service's metadata says about how its requests look on the wire."""

    name: str  # botocore's service name, as in boto3.client(name)
    service_id: str  # metadata.serviceId: what ObservedCall.service carries ("S3", "CloudWatch Logs")
    signing_name: str  # metadata.signingName, else endpointPrefix (botocore's own default)
    endpoint_prefix: str
    target_prefix: str | None  # json and rpc-v2 protocols: "DynamoDB_20120810"
    protocols: tuple[str, ...]
    api_version: str


def summary_of(name: str, metadata: dict[str, Any]) -> ServiceSummary:
    endpoint_prefix = str(metadata.get("endpointPrefix") or name)
    protocol = str(metadata.get("protocol", ""))
    return ServiceSummary(
        name=name,
        service_id=str(metadata.get("serviceId") or name),
        signing_name=str(metadata.get("signingName") or endpoint_prefix),
        endpoint_prefix=endpoint_prefix,
        target_prefix=metadata.get("targetPrefix"),
        protocols=tuple(metadata.get("protocols") or [protocol]),
        api_version=str(metadata.get("apiVersion", "")),
    )


def default_loader() -> Any:
    """botocore's loader restricted to the models botocore ships."""
    from botocore.loaders import Loader

    return Loader(extra_search_paths=[Loader.BUILTIN_DATA_PATH], include_default_search_paths=False)


class ServiceModels:
    """Service summaries indexed by signing name, target prefix and endpoint prefix; operation tables by
    service. Built on first use; not thread-safe while building (build it once before sharing)."""

    def __init__(self, loader: Any = None) -> None:
        self._loader = loader
        self._summaries: dict[str, ServiceSummary] | None = None
        self._by_signing: dict[str, tuple[ServiceSummary, ...]] = {}
        self._by_target: dict[str, tuple[ServiceSummary, ...]] = {}
        self._by_endpoint: dict[str, tuple[ServiceSummary, ...]] = {}
        self._tables: dict[str, OperationTable] = {}

    @property
    def loader(self) -> Any:
        if self._loader is None:
            self._loader = default_loader()
        return self._loader

    def summaries(self) -> dict[str, ServiceSummary]:
        if self._summaries is None:
            self._summaries = {name: summary_of(name, self._metadata(name)) for name in self._service_names()}
            self._index(self._summaries.values())
        return self._summaries

    def by_signing_name(self, signing_name: str) -> tuple[ServiceSummary, ...]:
        self.summaries()
        return self._by_signing.get(signing_name, ())

    def by_target_prefix(self, target_prefix: str) -> tuple[ServiceSummary, ...]:
        self.summaries()
        return self._by_target.get(target_prefix, ())

    def by_endpoint_prefix(self, endpoint_prefix: str) -> tuple[ServiceSummary, ...]:
        self.summaries()
        return self._by_endpoint.get(endpoint_prefix, ())

    def operations(self, service: ServiceSummary) -> OperationTable:
        """The service's operation table, loading its full model on first use (~5-300 ms, then cached)."""
        table = self._tables.get(service.name)
        if table is None:
            from botocore.model import ServiceModel

            model = ServiceModel(self.loader.load_service_model(service.name, "service-2"), service.name)
            table = self._tables[service.name] = OperationTable(model)
        return table

    def operation_model(self, service_name: str, wire_name: str) -> Any:
        """A botocore OperationModel by service name and wire name; None if unknown."""
        summary = self.summaries().get(service_name)
        return self.operations(summary).operation(wire_name) if summary is not None else None

    def _index(self, summaries: Any) -> None:
        by_signing, by_target, by_endpoint = defaultdict(list), defaultdict(list), defaultdict(list)
        for summary in sorted(summaries, key=lambda s: s.name):
            by_signing[summary.signing_name].append(summary)
            by_endpoint[summary.endpoint_prefix].append(summary)
            if summary.target_prefix:
                by_target[summary.target_prefix].append(summary)
        self._by_signing = {k: tuple(v) for k, v in by_signing.items()}
        self._by_target = {k: tuple(v) for k, v in by_target.items()}
        self._by_endpoint = {k: tuple(v) for k, v in by_endpoint.items()}

    def _service_names(self) -> list[str]:
        return sorted(self.loader.list_available_services("service-2"))

    def _metadata(self, name: str) -> dict[str, Any]:
        path = self._model_path(name)
        head = read_metadata_head(path) if path is not None else None
        if path is None or head is None:  # a loader without files on disk, or an unusual file: load it all
            metadata: dict[str, Any] = self.loader.load_service_model(name, "service-2")["metadata"]
            return metadata
        return {**head, **_sdk_extras_metadata(path.parent)}

    def _model_path(self, name: str) -> Path | None:
        version = self.loader.determine_latest_version(name, "service-2")
        for root in getattr(self.loader, "search_paths", ()):
            for file_name in ("service-2.json.gz", "service-2.json"):
                path = Path(root, name, version, file_name)
                if path.is_file():
                    return path
        return None


def _sdk_extras_metadata(folder: Path) -> dict[str, Any]:
    """What botocore's `service-2.sdk-extras.json` merges into the metadata (EKS, Secrets Manager: serviceId)."""
    extras = folder / "service-2.sdk-extras.json"
    if not extras.is_file():
        return {}
    merged = json.loads(extras.read_text(encoding="utf-8")).get("merge", {}).get("metadata", {})
    return merged if isinstance(merged, dict) else {}


def read_metadata_head(path: Path) -> dict[str, Any] | None:
    """The `metadata` object of a (possibly gzipped) service-2.json, decompressing only its first KiB.

    None if the file has no top-level metadata object within its first 256 KiB."""
    inflate = zlib.decompressobj(zlib.MAX_WBITS | 32) if path.suffix == ".gz" else None
    utf8 = codecs.getincrementaldecoder("utf-8")("replace")  # a character may straddle two chunks
    text = ""
    with path.open("rb") as handle:
        while len(text) < 262_144:
            chunk = handle.read(_HEAD_CHUNK)
            data = inflate.decompress(chunk) if inflate is not None else chunk
            text += utf8.decode(data, final=not chunk)
            metadata = _metadata_in(text)
            if metadata is not None or not chunk:
                return metadata
    return None


def _metadata_in(text: str) -> dict[str, Any] | None:
    start = text.find('"metadata"')
    colon = text.find(":", start) if start >= 0 else -1
    if colon < 0:
        return None
    value_start = len(text) - len(text[colon + 1 :].lstrip())
    try:
        value, _ = _DECODER.raw_decode(text, value_start)
    except ValueError:  # not all of it decompressed yet
        return None
    return value if isinstance(value, dict) else None
