"""One service's operations, indexed the ways a request names them. Pure (takes a botocore ServiceModel).

- json (and rpc-v2-cbor): by name, from `X-Amz-Target: <targetPrefix>.<Operation>` or the path
  `/service/<targetPrefix>/operation/<Operation>`;
- query and ec2 (and json services called the query way by older SDKs, e.g. SQS): by `Action=`;
- rest-json and rest-xml: by route (method + request-URI template + query/header discriminators).
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

from collector_runtime.sources.proxy.routes import Route, compile_route

REST_PROTOCOLS = frozenset({"rest-json", "rest-xml"})


class OperationTable:
    """A service model's operations by name and by route, computed on first use."""

    def __init__(self, model: Any) -> None:
        self.model = model  # botocore.model.ServiceModel
        self.protocols: tuple[str, ...] = tuple(model.metadata.get("protocols") or [model.protocol])

    @cached_property
    def names(self) -> frozenset[str]:
        return frozenset(self.model.operation_names)

    @property
    def is_rest(self) -> bool:
        return any(protocol in REST_PROTOCOLS for protocol in self.protocols)

    @cached_property
    def routes(self) -> tuple[Route, ...]:
        if not self.is_rest:
            return ()
        return tuple(compile_route(name, self.model.operation_model(name)) for name in sorted(self.names))

    @cached_property
    def s3_express_control(self) -> frozenset[str]:
        """S3 operations that may go to the S3 Express control endpoint (`s3express-control.<region>...`):
        those the model marks UseS3ExpressControlEndpoint (bucket-level ones go there for directory buckets)."""
        return frozenset(name for name in self.names if _uses_express_control(self.model.operation_model(name)))

    @cached_property
    def s3_express_control_only(self) -> frozenset[str]:
        """Of those, the ones with no bucket, which only that endpoint serves: ListDirectoryBuckets shares
        `GET /` with ListBuckets and is told apart by the host alone."""
        return frozenset(
            name
            for name in self.s3_express_control
            if "Bucket" not in getattr(self.model.operation_model(name).input_shape, "members", {})
        )

    def operation(self, name: str) -> Any:
        """The botocore OperationModel called `name` (its model key or its wire name), or None."""
        if name in self.names:
            return self.model.operation_model(name)
        return self._by_wire_name.get(name)

    @cached_property
    def _by_wire_name(self) -> dict[str, Any]:
        by_wire: dict[str, Any] = {}
        for name in self.names:
            operation = self.model.operation_model(name)
            if operation.wire_name != name:  # CloudFront: ListDistributions2020_05_31
                by_wire[operation.wire_name] = operation
        return by_wire


def _uses_express_control(operation: Any) -> bool:
    return any(p.name == "UseS3ExpressControlEndpoint" and p.value for p in operation.static_context_parameters)
