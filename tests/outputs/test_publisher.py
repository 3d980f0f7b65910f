"""Publishing to S3 and SSM against moto, with injected failures: nothing is lost, outages catch up."""

from __future__ import annotations

import json
import logging
import re
from collections import Counter
from dataclasses import replace
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from moto import mock_aws

from collector_runtime.collector import CollectorService
from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.policy import PolicyBuilder, PolicyOptions
from collector_runtime.core.publish_plan import STATS_HEARTBEAT_SECONDS, PublishTargets
from collector_runtime.core.rendering import FlushRenderer
from collector_runtime.data import load_action_map
from collector_runtime.outputs.publisher import Publisher
from collector_runtime.settings import ListenOptions, OutputOptions
from collector_runtime.sources.csm.source import CsmSource
from tests.conftest import CsmPipeline, assert_no_secrets, attempt, call, datagram

BUCKET = "results-bucket"
TARGETS = PublishTargets(bucket=BUCKET, prefix="csm/", ssm_prefix="/csm-collector")


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


class Flaky:
    """Wraps a client: the listed operations fail with `code` the next `times` calls, then work."""

    def __init__(self, client: Any, code: str, times: int, operations: tuple[str, ...]) -> None:
        self.client, self.code, self.times, self.operations = client, code, times, operations
        self.calls: list[str] = []

    def __getattr__(self, name: str) -> Any:
        target = getattr(self.client, name)
        if name not in self.operations:
            return target

        def call(*args: Any, **kwargs: Any) -> Any:
            self.calls.append(name)
            if self.times > 0:
                self.times -= 1
                raise ClientError({"Error": {"Code": self.code, "Message": "injected"}}, name)
            return target(*args, **kwargs)

        return call


class StrictSsm:
    """moto's SSM does not enforce the documented limits; this double does, then delegates."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.puts: list[dict[str, Any]] = []
        self.tiers: dict[str, str] = {}

    def put_parameter(self, **kwargs: Any) -> Any:
        name, value, tier = kwargs["Name"], kwargs["Value"], kwargs["Tier"]
        if not re.fullmatch(r"/[a-zA-Z0-9_.\-/]{1,1010}", name) or name.lower().startswith(("/aws", "/ssm")):
            raise ClientError({"Error": {"Code": "ValidationException", "Message": f"bad name {name}"}}, "PutParameter")
        if len(value) > {"Standard": 4096, "Advanced": 8192}[tier]:
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "too big"}}, "PutParameter")
        if self.tiers.get(name) == "Advanced" and tier == "Standard":
            raise ClientError({"Error": {"Code": "ValidationException", "Message": "no downgrade"}}, "PutParameter")
        self.tiers[name] = tier
        self.puts.append(kwargs)
        return self.client.put_parameter(**kwargs)


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Any:
    for name in ("AWS_PROFILE", "AWS_CSM_ENABLED"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "testing")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", "testing")
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3, boto3.client("ssm", region_name="us-east-1")


class Intake:
    """The collector's side of publishing: datagrams in, a render per flush."""

    def __init__(self, action_map: ActionMap) -> None:
        self.pipeline = CsmPipeline(Aggregator(action_map))

    def ingest(self, data: bytes) -> None:
        self.pipeline.receive_datagram(data)


def flush(intake: Intake, writer: FlushRenderer, publisher: Publisher) -> None:
    publisher.update(writer.render(intake.pipeline.aggregator, intake.pipeline.counters(), {}))
    publisher.publish_pending()


def setup(
    tmp_path: Path, action_map: ActionMap, s3: Any, ssm: Any, options: PolicyOptions | None = None
) -> tuple[Intake, FlushRenderer, Publisher]:
    writer = FlushRenderer(action_map, options or PolicyOptions(), max_policy_chars=6144)
    publisher = Publisher(TARGETS, s3_client=s3, ssm_client=ssm, ssm_rate=1000, clock=FakeClock())
    return Intake(action_map), writer, publisher


def ec2_apis(action_map: ActionMap) -> list[str]:
    """EC2 operations that map to an action of their own name."""
    names = sorted(a.split(":")[1] for a in action_map.actions_of("ec2"))
    return [n for n in names if action_map.lookup("EC2", n).actions == (f"ec2:{n}",)]


def keys(s3: Any) -> set[str]:
    return {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET).get("Contents", [])}


def body(s3: Any, key: str) -> Any:
    return json.loads(s3.get_object(Bucket=BUCKET, Key=key)["Body"].read())


def all_actions(document: dict[str, Any]) -> list[str]:
    return sorted(action for statement in document["Statement"] for action in statement["Action"])


UNSCOPED = PolicyOptions(force_wildcard_resource=True)  # sizes that depend on the actions alone


def test_policies_stats_state_and_history_reach_s3_and_ssm(tmp_path: Path, action_map: ActionMap, aws: Any) -> None:
    s3, ssm = aws
    strict = StrictSsm(ssm)
    aggregator, writer, publisher = setup(tmp_path, action_map, s3, strict)
    aggregator.ingest(datagram(attempt("SQS", "SendMessage", "worker"), call("SQS", "SendMessage", "worker")))
    flush(aggregator, writer, publisher)
    aggregator.ingest(datagram(call("SQS", "DeleteMessage", "worker")))
    flush(aggregator, writer, publisher)

    found = keys(s3)
    assert {"csm/policies/worker.json", "csm/policy.json", "csm/stats.json", "csm/state.json"} <= found
    history = sorted(k for k in found if k.startswith("csm/history/worker/"))
    assert [body(s3, k)["added"] for k in history] == [["sqs:SendMessage"], ["sqs:DeleteMessage"]]
    policy = body(s3, "csm/policies/worker.json")
    assert policy["Statement"][0]["Action"] == ["sqs:DeleteMessage", "sqs:SendMessage"]
    parameter = ssm.get_parameter(Name="/csm-collector/policies/worker")["Parameter"]
    assert json.loads(parameter["Value"]) == policy
    assert strict.puts[-1]["Tier"] == "Standard"
    assert publisher.pending() == 0
    everything = "".join(s3.get_object(Bucket=BUCKET, Key=k)["Body"].read().decode() for k in found)
    assert_no_secrets(everything + parameter["Value"])


def test_nothing_is_published_again_when_nothing_changed(tmp_path: Path, action_map: ActionMap, aws: Any) -> None:
    s3, ssm = aws
    counting_s3 = Flaky(s3, "none", 0, ("put_object",))
    counting_ssm = Flaky(ssm, "none", 0, ("put_parameter",))
    aggregator, writer, _ = setup(tmp_path, action_map, s3, ssm)
    publisher = Publisher(TARGETS, s3_client=counting_s3, ssm_client=counting_ssm, ssm_rate=1000, clock=FakeClock())
    aggregator.ingest(datagram(call("SNS", "Publish", "notifier")))
    flush(aggregator, writer, publisher)
    puts, parameters = len(counting_s3.calls), len(counting_ssm.calls)
    aggregator.ingest(datagram(call("SNS", "Publish", "notifier")))  # same policy, new counters
    flush(aggregator, writer, publisher)
    assert len(counting_ssm.calls) == parameters
    assert len(counting_s3.calls) == puts + 2  # stats.json and state.json only


def test_ssm_size_tiers_and_the_s3_pointer(tmp_path: Path, action_map: ActionMap, aws: Any) -> None:
    s3, ssm = aws
    strict = StrictSsm(ssm)
    aggregator, writer, publisher = setup(tmp_path, action_map, s3, strict, UNSCOPED)
    apis = ec2_apis(action_map)
    for api in apis[:150]:
        aggregator.ingest(datagram(call("EC2", api, "medium")))
    for api in apis[:400]:
        aggregator.ingest(datagram(call("EC2", api, "large")))
    flush(aggregator, writer, publisher)
    assert publisher.pending() == 0
    by_name = {p["Name"]: p for p in strict.puts}
    medium = by_name["/csm-collector/policies/medium"]
    assert medium["Tier"] == "Advanced" and 4096 < len(medium["Value"]) <= 8192
    assert json.loads(medium["Value"]) == body(s3, "csm/policies/medium.json")
    large = ssm.get_parameter(Name="/csm-collector/policies/large")["Parameter"]["Value"]
    assert large == f"s3://{BUCKET}/csm/policies/large.json"
    assert len(body(s3, "csm/policies/large.json")["Statement"][0]["Action"]) == 400


def test_an_advanced_parameter_is_never_downgraded(tmp_path: Path, action_map: ActionMap, aws: Any) -> None:
    s3, ssm = aws
    strict = StrictSsm(ssm)
    aggregator, writer, publisher = setup(tmp_path, action_map, s3, strict, UNSCOPED)
    for api in ec2_apis(action_map)[:150]:
        aggregator.ingest(datagram(call("EC2", api, "shrinking")))
    flush(aggregator, writer, publisher)
    writer.builder = PolicyBuilder(action_map, replace(UNSCOPED, fails_only=True))  # now smaller: no call failed
    aggregator.pipeline.aggregator.workloads["shrinking"].version += 1
    flush(aggregator, writer, publisher)
    assert publisher.pending() == 0
    assert {p["Tier"] for p in strict.puts} == {"Advanced"}


def test_unsafe_client_ids_get_valid_parameter_names(tmp_path: Path, action_map: ActionMap, aws: Any) -> None:
    s3, ssm = aws
    strict = StrictSsm(ssm)
    aggregator, writer, publisher = setup(tmp_path, action_map, s3, strict)
    for client_id in ("team/app 1", "../../etc", "café"):
        aggregator.ingest(datagram(call("SQS", "ListQueues", client_id)))
    flush(aggregator, writer, publisher)
    assert publisher.pending() == 0 and len(strict.puts) == 3


@pytest.mark.parametrize(
    ("code", "operation"),
    [
        ("NoSuchBucket", "put_object"),
        ("ThrottlingException", "put_object"),
        ("AccessDenied", "put_object"),
        ("ThrottlingException", "put_parameter"),
        ("AccessDeniedException", "put_parameter"),
    ],
)
def test_failures_back_off_and_catch_up_without_loss(
    tmp_path: Path, action_map: ActionMap, aws: Any, caplog: pytest.LogCaptureFixture, code: str, operation: str
) -> None:
    s3, ssm = aws
    clock = FakeClock()
    flaky_s3 = Flaky(s3, code, 6 if operation == "put_object" else 0, ("put_object",))
    flaky_ssm = Flaky(ssm, code, 6 if operation == "put_parameter" else 0, ("put_parameter",))
    aggregator, writer, _ = setup(tmp_path, action_map, s3, ssm)
    publisher = Publisher(TARGETS, s3_client=flaky_s3, ssm_client=flaky_ssm, ssm_rate=1000, clock=clock)
    caplog.set_level(logging.WARNING, logger="csm_collector")
    for index, api in enumerate(["ListQueues", "SendMessage", "ReceiveMessage", "DeleteMessage"]):
        aggregator.ingest(datagram(call("SQS", api, f"w{index % 2}")))
        flush(aggregator, writer, publisher)  # every flush during the outage: items stay pending
    assert publisher.pending() > 0
    for _ in range(20):  # time passes: retries with backoff until the outage is over
        clock.now += 61
        publisher.publish_pending()
    assert publisher.pending() == 0
    assert all_actions(body(s3, "csm/policies/w0.json")) == ["sqs:ListQueues", "sqs:ReceiveMessage"]
    assert all_actions(body(s3, "csm/policies/w1.json")) == ["sqs:DeleteMessage", "sqs:SendMessage"]
    assert json.loads(ssm.get_parameter(Name="/csm-collector/policies/w1")["Parameter"]["Value"]) == body(
        s3, "csm/policies/w1.json"
    )
    history = sorted(k for k in keys(s3) if "/history/" in k)
    assert len(history) == 4  # one per change, none lost
    errors = [r for r in caplog.records if r.levelno == logging.ERROR]
    assert len(errors) == 1 and code in errors[0].getMessage()  # reported once, not per attempt
    assert any("works again" in r.getMessage() for r in caplog.records)
    status = publisher.status()
    assert status["s3"]["pending"] == 0 and status["ssm"]["pending"] == 0


def test_s3_outage_does_not_hold_up_ssm(tmp_path: Path, action_map: ActionMap, aws: Any) -> None:
    s3, ssm = aws
    broken = Flaky(s3, "AccessDenied", 10**6, ("put_object",))
    aggregator, writer, _ = setup(tmp_path, action_map, s3, ssm)
    publisher = Publisher(TARGETS, s3_client=broken, ssm_client=ssm, ssm_rate=1000, clock=FakeClock())
    aggregator.ingest(datagram(call("KMS", "Decrypt", "svc")))
    flush(aggregator, writer, publisher)
    assert ssm.get_parameter(Name="/csm-collector/policies/svc")["Parameter"]["Value"]
    assert publisher.status()["s3"]["in_outage"]


def test_stop_publishes_the_final_state(tmp_path: Path, action_map: ActionMap, aws: Any) -> None:
    s3, ssm = aws
    aggregator, writer, publisher = setup(tmp_path, action_map, s3, ssm)
    publisher.start()
    aggregator.ingest(datagram(call("Lambda", "Invoke", "caller")))
    publisher.update(writer.render(aggregator.pipeline.aggregator, {}, {}))
    assert publisher.stop(timeout=30)
    assert body(s3, "csm/policies/caller.json")["Statement"][0]["Action"] == ["lambda:InvokeFunction"]


def test_bad_ssm_prefixes_are_refused() -> None:
    from collector_runtime.settings import ConfigError
    from collector_runtime.settings.values import normalise_s3_prefix, normalise_ssm_prefix

    assert normalise_ssm_prefix("csm-collector/") == "/csm-collector"
    assert normalise_s3_prefix("/a/b") == "a/b/" and normalise_s3_prefix("") == ""
    for bad in ("/aws/x", "ssm", "/a b"):
        with pytest.raises(ConfigError, match="SSM prefix"):
            normalise_ssm_prefix(bad)


class CountingS3:
    """Counts PutObject calls per key, then delegates."""

    def __init__(self, client: Any) -> None:
        self.client = client
        self.puts: Counter[str] = Counter()

    def put_object(self, **kwargs: Any) -> Any:
        self.puts[kwargs["Key"]] += 1
        return self.client.put_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)


def test_an_idle_collector_uploads_stats_only_on_a_change_or_the_heartbeat(tmp_path: Path, aws: Any) -> None:
    s3, _ = aws
    clock = FakeClock()
    counting = CountingS3(s3)
    publisher = Publisher(PublishTargets(bucket=BUCKET, prefix="csm/"), s3_client=counting, clock=clock)
    settings = ListenOptions(port=0, quiet=True, output=OutputOptions(output_dir=tmp_path))
    service = CollectorService(
        settings, load_action_map(), sources=[CsmSource()], publisher=publisher, clock=clock, wall_clock=clock
    )

    def flushes(count: int) -> None:  # the collector's 10 s flushes
        for _ in range(count):
            clock.now += 10
            assert service.flush()
            publisher.publish_pending()

    service.sources["csm"].receive(datagram(call("S3", "GetObject", "app")))
    flushes(1)
    assert counting.puts["csm/stats.json"] == 1 and counting.puts["csm/policies/app.json"] == 1
    flushes(30)  # five idle minutes: written_at, uptime, flush counts and its own upload counts change
    assert counting.puts["csm/stats.json"] == 1
    assert sum(counting.puts.values()) == 5  # policy, policy.json, state.json, stats.json, one history entry
    assert publisher.pending() == 0

    service.sources["csm"].receive(datagram(call("S3", "GetObject", "app")))  # same policy, a new count
    flushes(1)
    assert counting.puts["csm/stats.json"] == 2 and body(s3, "csm/stats.json")["calls"] == 2

    flushes(STATS_HEARTBEAT_SECONDS // 10 - 1)  # idle until just before the heartbeat
    assert counting.puts["csm/stats.json"] == 2
    flushes(1)
    assert counting.puts["csm/stats.json"] == 3  # the heartbeat: a reader sees the collector is alive
    assert body(s3, "csm/stats.json")["written_at"] == json.loads((tmp_path / "stats.json").read_text())["written_at"]

    clock.now += 10
    assert service.flush()
    publisher.start()
    assert publisher.stop(timeout=30)  # stopping publishes the final stats.json
    assert counting.puts["csm/stats.json"] == 4
    assert body(s3, "csm/stats.json") == json.loads((tmp_path / "stats.json").read_text())
