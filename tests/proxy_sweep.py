"""Sweep the proxy request matcher over every operation of every botocore service.

For each operation: fill its required members by type (`tests.proxy_requests.minimal_input`), let a real
botocore client serialise, resolve the endpoint and sign the request (captured before sending, no
network), then match it and compare service, operation and identifiers with what was sent.

Usage: python -m tests.proxy_sweep [--services s3,ec2] [--every N] [--json out.json]
(`--every 15` keeps every 15th operation of each service: the deterministic sample the test suite runs,
tests/sources/test_proxy_sweep.py.)
"""

from __future__ import annotations

import argparse
import collections
import functools
import json
import time
from pathlib import Path
from typing import Any, NamedTuple

from collector_runtime.data import load_action_map
from collector_runtime.sources.proxy.identifier_allowlist import identifiers_of
from collector_runtime.sources.proxy.matcher import MatchedCall, match_request
from collector_runtime.sources.proxy.service_models import ServiceModels
from tests.proxy_requests import capturing_client, minimal_input, new_session, request_of

# Outcomes
CORRECT, SAME_API_OTHER_SERVICE, DEPRECATED_TWIN, WRONG, UNMATCHED, NOT_SENT = (
    "correct",
    "same API, other service",
    "deprecated twin",
    "wrong operation",
    "unmatched",
    "not producible",
)


class Outcome(NamedTuple):
    service: str
    operation: str
    kind: str
    detail: str = ""
    identifiers_ok: bool = True


def sweep(
    services: list[str] | None = None, every: int = 1, service_models: ServiceModels | None = None
) -> list[Outcome]:
    service_models = service_models or ServiceModels()
    session = new_session()
    names = services or sorted(service_models.summaries())
    outcomes: list[Outcome] = []
    for name in names:
        outcomes.extend(sweep_service(session, service_models, name, every))
    return outcomes


def sweep_service(session: Any, service_models: ServiceModels, name: str, every: int = 1) -> list[Outcome]:
    outcomes = []
    try:
        with capturing_client(session, name) as client:
            model = client.meta.service_model
            outcomes.extend(check_summary(service_models, name, model))
            for operation_name in list(model.operation_names)[::every]:
                outcomes.append(sweep_operation(client, service_models, model.operation_model(operation_name)))
    except Exception as error:  # a client that cannot be created here (e.g. a region it lacks)
        outcomes.append(Outcome(name, "*", NOT_SENT, f"client: {type(error).__name__}"))
    return outcomes


def check_summary(service_models: ServiceModels, name: str, model: Any) -> list[Outcome]:
    """The summary in the service models (read from the head of the model file) agrees with the client's full model."""
    summary = service_models.summaries()[name]
    full = (model.metadata["serviceId"], model.signing_name, model.endpoint_prefix, model.metadata.get("targetPrefix"))
    seen = (summary.service_id, summary.signing_name, summary.endpoint_prefix, summary.target_prefix)
    return [] if full == seen else [Outcome(name, "(metadata)", WRONG, f"summary {seen} != model {full}")]


def sweep_operation(client: Any, service_models: ServiceModels, operation: Any) -> Outcome:
    service = client.meta.service_model.service_name
    if operation.get_event_stream_input() is not None:
        return Outcome(service, operation.name, NOT_SENT, "event-stream input")
    arn_service = client.meta.service_model.signing_name
    params = minimal_input(operation.input_shape, arn_service) if operation.input_shape is not None else {}
    try:
        request = request_of(client, operation.name, params)
    except Exception as error:
        return Outcome(service, operation.name, NOT_SENT, type(error).__name__)
    return judge(service_models, service, operation, params, match_request(request, service_models))


def judge(service_models: ServiceModels, service: str, operation: Any, params: dict[str, Any], result: Any) -> Outcome:
    if not isinstance(result, MatchedCall):
        return Outcome(service, operation.name, UNMATCHED, f"{result.reason}: {','.join(result.tried[:4])}")
    sent = {k: v for k, v in params.items() if isinstance(v, str)}
    expected = identifiers_of(operation, sent, frozenset(_uri_members(operation)))
    identifiers_ok = all(result.identifiers.get(k) == v for k, v in expected.items())
    if result.operation != operation.wire_name:
        twin = operation.deprecated and _same_wire(service_models, service, operation, result)
        kind = DEPRECATED_TWIN if twin else WRONG
        return Outcome(service, operation.name, kind, f"{result.service_name}.{result.operation}", identifiers_ok)
    if result.service_name != service:
        sent_id, found_id = service_models.summaries()[service].service_id, result.service
        same = _actions(sent_id, operation.wire_name) == _actions(found_id, result.operation)
        detail = f"{result.service_name} for {service}, {'same' if same else 'DIFFERENT'} IAM actions"
        return Outcome(service, operation.name, SAME_API_OTHER_SERVICE, detail)
    missing = sorted(k for k, v in expected.items() if result.identifiers.get(k) != v)
    return Outcome(
        service, operation.name, CORRECT, f"missing identifiers {missing}" if missing else "", identifiers_ok
    )


def _same_wire(service_models: ServiceModels, service: str, operation: Any, result: MatchedCall) -> bool:
    """A deprecated operation matched as its current twin that sends the very same request (compared in the
    service models: botocore rewrites an S3 client's request URIs on first use)."""
    if result.service_name != service:
        return False
    table = service_models.operations(service_models.summaries()[service])
    sent, twin = table.operation(operation.name), table.operation(result.operation)
    return bool(twin is not None and sent is not None and twin.http == sent.http)


@functools.cache
def _action_map() -> Any:
    return load_action_map()


def _actions(service_id: str, wire_name: str) -> tuple[str, ...]:
    return tuple(_action_map().lookup(service_id, wire_name).actions)


def _uri_members(operation: Any) -> list[str]:
    shape = operation.input_shape
    if shape is None:
        return []
    return [n for n, m in shape.members.items() if m.serialization.get("location") == "uri"]


def summarize(outcomes: list[Outcome], seconds: float) -> dict[str, Any]:
    kinds = collections.Counter(o.kind for o in outcomes)
    producible = [o for o in outcomes if o.kind != NOT_SENT]
    correct = kinds[CORRECT]
    return {
        "operations": len(outcomes),
        "producible": len(producible),
        "by_outcome": dict(kinds),
        "correct_share": round(correct / max(1, len(producible)), 4),
        "identifiers_ok_share": round(sum(o.identifiers_ok for o in producible) / max(1, len(producible)), 4),
        "not_producible_reasons": dict(collections.Counter(o.detail for o in outcomes if o.kind == NOT_SENT)),
        "seconds": round(seconds, 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--services", help="comma-separated botocore service names (default: all)")
    parser.add_argument("--every", type=int, default=1, help="keep every Nth operation of each service")
    parser.add_argument("--json", type=Path, help="write every outcome here")
    parser.add_argument("--show", type=int, default=40, help="print this many non-correct outcomes")
    args = parser.parse_args()
    started = time.monotonic()
    outcomes = sweep(args.services.split(",") if args.services else None, args.every)
    summary = summarize(outcomes, time.monotonic() - started)
    print(json.dumps(summary, indent=2))
    for outcome in [o for o in outcomes if o.kind not in (CORRECT, NOT_SENT) or not o.identifiers_ok][: args.show]:
        print(f"{outcome.kind:24s} {outcome.service}.{outcome.operation}: {outcome.detail}")
    missing = [o for o in outcomes if o.kind == CORRECT and o.detail]
    for outcome in missing[: args.show]:
        print(f"{'identifiers':24s} {outcome.service}.{outcome.operation}: {outcome.detail}")
    if args.json:
        args.json.write_text(json.dumps({"summary": summary, "outcomes": [o._asdict() for o in outcomes]}, indent=1))


if __name__ == "__main__":
    main()
