"""The real EC2 bundle (the pinned requirements vendored for arm64 from a local wheelhouse) runs the systemd
unit's own command line with the unit's own environment: it starts, binds its UDP port, and publishes to
S3 and SSM (moto, in the collector's process). Without `vendor/` the same unit exits at once, which is why
a synth that cannot vendor fails (test_collector_package.py)."""

from __future__ import annotations

import json
import re
import signal
import subprocess
import sysconfig
from pathlib import Path

import pytest

from stacks import collector_boot
from stacks.collector_package import VENDOR_DIR, copy_package, runtime_requirements
from stacks.ec2_collector import collector_environment
from tests.conftest import call, datagram
from tests.helpers import STARTED, send
from tests.infra.bundles import UnitCommand, offline_pip_options, unpacked_bundle
from tests.infra.synth import REPO_ROOT

pytestmark = pytest.mark.slow

RUNNER = Path(__file__).with_name("unit_under_moto.py")
BUCKET = "csm-results-bucket"
WORKLOAD = "unit-test-workload"
UNIT = collector_boot.systemd_unit(
    port=0,  # the unit's port is a setting; 0 lets the kernel pick a free one here
    otlp_port=0,  # so is the OTLP port: the vendored opentelemetry-proto and protobuf must import from the bundle
    environment=collector_environment(
        bucket_name=BUCKET, s3_prefix="collector/", ssm_prefix="/csm-collector", region="us-east-1"
    ),
)


@pytest.fixture(scope="module")
def unpacked(wheelhouse: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return unpacked_bundle(tmp_path_factory.mktemp("ec2-bundle"), offline_pip_options(wheelhouse))


def start(argv: list[str], command: UnitCommand, home: Path) -> tuple[subprocess.Popen[str], int]:
    """Start the unit's command; returns the process and the UDP port it says it listens on."""
    process = subprocess.Popen(argv, env=command.process_environment(home), cwd=home, stderr=subprocess.PIPE, text=True)
    STARTED.append(process)
    assert process.stderr is not None
    seen = []
    for line in process.stderr:
        seen.append(line)
        match = re.search(r"listening on 0\.0\.0\.0:(\d+)/udp", line)
        if match:
            return process, int(match.group(1))
    raise AssertionError(f"the unit's listen exited {process.wait()} without listening:\n{''.join(seen)}")


def test_the_bundle_vendors_every_pinned_requirement_built_for_arm64(unpacked: Path) -> None:
    vendor = unpacked / VENDOR_DIR
    assert (vendor / "boto3" / "__init__.py").is_file()
    assert [path.name for path in vendor.glob("orjson/orjson.cpython-311-aarch64-linux-gnu.so")]
    dist_infos = {path.name.lower() for path in vendor.glob("*.dist-info")}
    for requirement in runtime_requirements():
        name, version = requirement.split("==")
        assert f"{name.replace('-', '_')}-{version}.dist-info" in dist_infos


def test_listen_runs_from_the_bundle_with_the_units_environment_and_publishes(unpacked: Path, tmp_path: Path) -> None:
    command = UnitCommand.parse(UNIT).on_this_machine(unpacked, tmp_path / "state")
    python, no_site, *exec_args = command.argv
    result_file = tmp_path / "published.json"
    runner = [python, no_site, str(RUNNER), sysconfig.get_paths()["purelib"], str(result_file), BUCKET]
    process, port = start([*runner, *exec_args], command, tmp_path)
    calls = [call("DynamoDB", "GetItem", client_id=WORKLOAD), call("SQS", "SendMessage", client_id=WORKLOAD)]
    send(port, datagram(*calls))
    process.send_signal(signal.SIGTERM)  # what systemd sends on stop: final flush, final publish
    _, rest = process.communicate(timeout=60)
    assert process.returncode == 0, rest
    result = json.loads(result_file.read_text())
    assert result["boto3"].startswith(str(unpacked / VENDOR_DIR))  # not this test's own boto3
    assert result["module"].startswith(str(unpacked / "collector_runtime"))
    assert {f"collector/policies/{WORKLOAD}.json", "collector/policy.json", "collector/state.json"} <= set(
        result["objects"]
    )
    assert any(key.startswith("collector/archive/dt=") for key in result["objects"])  # CSM_COLLECTOR_ARCHIVE=true
    policy = json.loads(result["parameters"][f"/csm-collector/policies/{WORKLOAD}"])
    actions = {action for statement in policy["Statement"] for action in statement["Action"]}
    assert actions == {"dynamodb:GetItem", "sqs:SendMessage"}


def test_without_vendor_the_same_unit_exits_at_start(tmp_path: Path) -> None:
    """What a bundle shipped without its dependencies did under systemd: exit 1, restart, exit 1, ..."""
    copy_package(REPO_ROOT, tmp_path / "bundle")
    assert not (tmp_path / "bundle" / VENDOR_DIR).exists()
    command = UnitCommand.parse(UNIT).on_this_machine(tmp_path / "bundle", tmp_path / "state")
    completed = subprocess.run(
        command.argv, env=command.process_environment(tmp_path), capture_output=True, text=True, timeout=60
    )
    assert completed.returncode == 1
    # one line naming the first dependency the unit's command needs (its OTLP receiver's, then boto3)
    assert completed.stderr.count("\n") == 1 and "needs opentelemetry-proto, which is not installed" in completed.stderr
