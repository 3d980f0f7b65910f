from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.records import CSM, ObservedCall
from collector_runtime.data import load_action_map
from collector_runtime.pipeline import Pipeline, offline_intake
from collector_runtime.sources.csm.source import CsmSource

SAMPLES = Path(__file__).parent / "fixtures" / "samples"
# Fake credentials that tests feed in; no output may ever contain them.
SECRET_ACCESS_KEY_ID = "AKIAIOSFODNN7EXAMPLE"
SECRET_SESSION_TOKEN = "FQoGZXIvYXdzEXAMPLE-session-token-do-not-persist"


def pytest_configure(config: pytest.Config) -> None:
    # Before any test module imports aws_cdk (jsii starts Node then): no Node 20 end-of-life banner, and the
    # CDK CLI the infra tests run sends no telemetry.
    os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
    os.environ.setdefault("CDK_DISABLE_CLI_TELEMETRY", "true")
    # Started in the background (`make test &`, nohup), pytest inherits SIGINT ignored, and so would every
    # process a test starts: the Ctrl-C tests' SIGINT would then do nothing. A handler, unlike "ignored", is
    # reset to the default when a child starts.
    if signal.getsignal(signal.SIGINT) == signal.SIG_IGN:
        signal.signal(signal.SIGINT, signal.default_int_handler)


# Session fixtures that take seconds to build (a proxy run with every client behind it; the CDK app's
# synthesized variants and the wheelhouse their bundles are built from): under pytest-xdist (`make test` runs
# two workers, `--dist loadgroup`) every test that uses one runs on the same worker, so each is built once.
# (`fixturenames` holds what a test's fixtures use too: `ec2` uses `variants`.)
SHARED_EXPENSIVELY = {"run": "proxy-run", "variants": "cdk", "wheelhouse": "cdk"}


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        groups = {SHARED_EXPENSIVELY[name] for name in getattr(item, "fixturenames", ()) if name in SHARED_EXPENSIVELY}
        if groups:
            item.add_marker(pytest.mark.xdist_group(min(groups)))


@pytest.fixture(autouse=True)
def _no_leftover_processes() -> Iterator[None]:
    yield
    from tests.helpers import STARTED

    while STARTED:
        process = STARTED.pop()
        if process.poll() is None:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture(scope="session")
def action_map() -> ActionMap:
    return load_action_map()


@pytest.fixture
def aggregator(action_map: ActionMap) -> Aggregator:
    return Aggregator(action_map)


class CsmPipeline(Pipeline):
    """A pipeline fed CSM datagrams through a CSM source, as `listen` feeds it (`receive_datagram`)."""

    def __init__(self, aggregator: Aggregator, **kwargs: Any) -> None:
        super().__init__(aggregator, **kwargs)
        self.csm = CsmSource()
        self.csm.start(offline_intake(self))

    def receive_datagram(self, data: bytes) -> None:
        self.csm.receive(data)

    def counters(self) -> dict[str, Any]:
        return {**super().counters(), "csm": self.csm.stats()}

    def restore(self, state: dict[str, Any]) -> dict[str, Any]:
        saved = super().restore(state)
        self.csm.restore(saved.get("csm", {}))
        return saved


@pytest.fixture
def pipeline(aggregator: Aggregator) -> CsmPipeline:
    """CSM datagrams into `aggregator` (`pipeline.receive_datagram(datagram(...))`)."""
    return CsmPipeline(aggregator)


def observed(service: str, operation: str, workload: str = "app", **fields: Any) -> ObservedCall:
    """A record as a source would emit it (any source: the core does not care which)."""
    return ObservedCall(workload, fields.pop("source", CSM), service, operation, **fields)


def call(service: str, api: str, client_id: str = "app", **fields: Any) -> dict[str, Any]:
    """An ApiCall event as botocore sends it."""
    event = {
        "Version": 1,
        "ClientId": client_id,
        "Type": "ApiCall",
        "Service": service,
        "Api": api,
        "Timestamp": 1795303566718,
        "AttemptCount": 1,
        "Region": "us-east-1",
        "UserAgent": "Boto3/1.44.5 md/Botocore#1.44.5",
        "FinalHttpStatusCode": 200,
        "Latency": 12,
        "MaxRetriesExceeded": 0,
    }
    event.update(fields)
    return event


def attempt(service: str, api: str, client_id: str = "app", **fields: Any) -> dict[str, Any]:
    """An ApiCallAttempt event, secrets included, as botocore sends it."""
    event = {
        "Version": 1,
        "ClientId": client_id,
        "Type": "ApiCallAttempt",
        "Service": service,
        "Api": api,
        "Timestamp": 1795303566720,
        "AttemptLatency": 80,
        "Fqdn": f"{service.lower()}.us-east-1.amazonaws.com",
        "UserAgent": "Boto3/1.44.5 md/Botocore#1.44.5",
        "AccessKey": SECRET_ACCESS_KEY_ID,
        "SessionToken": SECRET_SESSION_TOKEN,
        "Region": "us-east-1",
        "HttpStatusCode": 200,
        "XAmznRequestId": "M2lB2D1UdiLEy8awxxtMIYwwZVFmORKSNY2CIvJmL528Bp9vWCCt",
    }
    event.update(fields)
    return event


def datagram(*events: dict[str, Any]) -> bytes:
    return b"\n".join(json.dumps(e, separators=(",", ":")).encode() for e in events)


def assert_no_secrets(text: str) -> None:
    assert SECRET_ACCESS_KEY_ID not in text
    assert SECRET_SESSION_TOKEN not in text
    assert "SessionToken" not in text
    assert '"AccessKey"' not in text


def read_all_outputs(directory: Path) -> str:
    return "\n".join(p.read_text(errors="replace") for p in sorted(directory.rglob("*")) if p.is_file())
