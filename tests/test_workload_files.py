"""Through the real collector (UDP datagrams in, files in a tmp dir, S3 and SSM in moto): a forged
workload name cannot take over another workload's files, and cleaning up parts, also after a restart
and for the file names of earlier versions, deletes only the workload's own files."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import pytest
from moto import mock_aws

from collector_runtime.collector import CollectorService
from collector_runtime.core.publish_plan import PublishTargets
from collector_runtime.data import load_action_map
from collector_runtime.outputs.publisher import Publisher
from collector_runtime.outputs.state_file import restore_state
from collector_runtime.settings import ListenOptions, OutputOptions
from tests.conftest import call, datagram
from tests.helpers import read_json, running_collector, send, wait_for

BUCKET = "results"
TARGETS = PublishTargets(bucket=BUCKET, prefix="csm/", ssm_prefix="/csm")
SMALL = 300  # --max-policy-chars: victim's six actions split into three parts
VICTIM_APIS = ["GetObject", "PutObject", "DeleteObject", "ListBuckets", "GetBucketPolicy", "PutBucketPolicy"]


@pytest.fixture
def aws(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Any, Any]]:
    for name, value in {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}.items():
        monkeypatch.setenv(name, value)
    with mock_aws():
        s3 = boto3.client("s3", region_name="us-east-1")
        s3.create_bucket(Bucket=BUCKET)
        yield s3, boto3.client("ssm", region_name="us-east-1")


def actions(document: dict[str, Any]) -> set[str]:
    return {action for statement in document["Statement"] for action in statement["Action"]}


def collect(output_dir: Path, traffic: dict[str, list[str]], publisher: Publisher | None = None, **options: Any) -> Any:
    """Run the collector on `traffic` (workload -> S3 operations); its stats.json."""
    with running_collector(output_dir, publisher=publisher, flush_interval=3600, **options) as service:
        total = sum(len(apis) for apis in traffic.values())
        for workload, apis in traffic.items():
            send(service.sources["csm"].address[1], *(datagram(call("S3", api, workload)) for api in apis))
        assert wait_for(lambda: service.pipeline.counters()["calls"] == total)
    return read_json(output_dir / "stats.json")


def restart(output_dir: Path, **output: Any) -> Any:
    """A collector started on `output_dir`'s state.json that writes once (as `listen` does); its stats.json."""
    settings = ListenOptions(port=0, quiet=True, output=OutputOptions(output_dir=output_dir, **output))
    service = CollectorService(settings, load_action_map())
    assert restore_state(service.restore, output_dir)
    service.resume()
    assert service.flush()
    return read_json(output_dir / "stats.json")


def policy_files(output_dir: Path) -> set[str]:
    return {path.name for path in (output_dir / "policies").iterdir()}


def test_a_forged_part_name_writes_its_own_file_key_and_parameter(tmp_path: Path, aws: tuple[Any, Any]) -> None:
    s3, ssm = aws
    publisher = Publisher(TARGETS, s3_client=s3, ssm_client=ssm, ssm_rate=1000)
    stats = collect(tmp_path, {"victim": VICTIM_APIS, "victim.part1": ["GetObject"]}, publisher, max_policy_chars=SMALL)
    victim, forged = stats["workloads"]["victim"], stats["workloads"]["victim.part1"]
    assert victim["policy_parts"] == 3
    assert forged["policy_file"] != "policies/victim.part1.json"
    assert actions(read_json(tmp_path / forged["policy_file"])) == {"s3:GetObject"}
    victim_policy = actions(read_json(tmp_path / victim["policy_file"]))
    parts = [actions(read_json(tmp_path / f"policies/victim.part{n}.json")) for n in (1, 2, 3)]
    assert set().union(*parts) == victim_policy and len(victim_policy) == 6  # victim's parts are its own
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]}
    forged_key = f"csm/{forged['policy_file']}"
    assert {"csm/policies/victim.json", forged_key} <= keys
    body = json.loads(s3.get_object(Bucket=BUCKET, Key=forged_key)["Body"].read())
    assert actions(body) == {"s3:GetObject"}
    parameters = {p["Name"]: p["Value"] for p in ssm.get_parameters_by_path(Path="/csm/policies")["Parameters"]}
    assert actions(json.loads(parameters["/csm/policies/victim"])) == victim_policy
    assert [actions(json.loads(v)) for k, v in parameters.items() if k != "/csm/policies/victim"] == [{"s3:GetObject"}]


def test_a_restart_deletes_the_workloads_own_stale_parts_and_old_names_only(tmp_path: Path) -> None:
    collect(tmp_path, {"victim": VICTIM_APIS, "team/app": ["GetObject"]}, max_policy_chars=SMALL)
    assert {"victim.part1.json", "victim.part2.json", "victim.part3.json"} <= policy_files(tmp_path)
    policies = tmp_path / "policies"
    old_team_app = f"team_app~{hashlib.sha256(b'team/app').hexdigest()[:10]}"  # an earlier version's name
    (policies / f"{old_team_app}.json").write_text("{}")
    (policies / f"{old_team_app}.part1.json").write_text("{}")
    (policies / "notes.json").write_text("not a workload's file")
    (policies / "someone-else.part1.json").write_text("not a workload's file")
    before = policy_files(tmp_path)

    stats = restart(tmp_path)  # no split at the default limit: victim's parts are stale

    assert stats["workloads"]["victim"]["policy_parts"] == 1
    removed = before - policy_files(tmp_path)
    assert removed == {
        "victim.part1.json",
        "victim.part2.json",
        "victim.part3.json",
        f"{old_team_app}.json",
        f"{old_team_app}.part1.json",
    }
    assert {"notes.json", "someone-else.part1.json", "victim.json"} <= policy_files(tmp_path)


def test_a_restart_keeps_another_workloads_part_that_had_a_forged_name(tmp_path: Path) -> None:
    """An earlier version wrote workload 'victim.part1' to victim.part1.json: after the restart that name is
    victim's part 1 again, so it is victim's to keep; the forged workload's file is elsewhere."""
    stats = collect(tmp_path, {"victim": VICTIM_APIS, "victim.part1": ["GetObject"]}, max_policy_chars=SMALL)
    part1 = (tmp_path / "policies/victim.part1.json").read_text()
    stats = restart(tmp_path, max_policy_chars=SMALL)
    assert stats["workloads"]["victim"]["policy_parts"] == 3
    assert (tmp_path / "policies/victim.part1.json").read_text() == part1
    assert actions(read_json(tmp_path / stats["workloads"]["victim.part1"]["policy_file"])) == {"s3:GetObject"}


def test_a_shrinking_policy_deletes_only_its_own_parts(tmp_path: Path) -> None:
    """Parts over the new count are deleted; a workload whose name looks like one of them keeps its file."""
    collect(tmp_path, {"victim": VICTIM_APIS, "victim.part3": ["GetObject"]}, max_policy_chars=SMALL)
    stats = restart(tmp_path, max_policy_chars=400)
    assert stats["workloads"]["victim"]["policy_parts"] == 2
    assert "victim.part3.json" not in policy_files(tmp_path)
    assert actions(read_json(tmp_path / stats["workloads"]["victim.part3"]["policy_file"])) == {"s3:GetObject"}
