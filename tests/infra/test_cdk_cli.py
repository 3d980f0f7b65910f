"""The pinned CDK CLI synthesizes both collector variants from cdk.json, offline, with cdk-nag's checks
running inside the app (any unacknowledged finding fails the synth)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.infra.synth import REPO_ROOT

pytestmark = pytest.mark.slow

CDK_CLI_VERSION = "2.1148.1"
CDK = REPO_ROOT / "node_modules" / ".bin" / "cdk"
STACKS = {"CsmCollectorNetwork", "CsmCollectorStorage", "CsmCollector", "CsmCollectorDemo"}


def offline_environment(tmp_path: Path, wheelhouse: Path | None = None) -> dict[str, str]:
    """No telemetry, no version check, no Node banner, and a pip that reaches no package index: it finds the
    collector's wheels in `wheelhouse` when one is given, nothing otherwise."""
    if wheelhouse is None:
        wheelhouse = tmp_path / "no-wheels"
        wheelhouse.mkdir(exist_ok=True)
    return {
        **os.environ,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(wheelhouse),
    }


def app_command() -> list[str]:
    """cdk.json's own `app` when the tests run from the repository's .venv, else this interpreter."""
    if Path(sys.executable).parent == REPO_ROOT / ".venv" / "bin":
        return []
    return ["--app", f"{sys.executable} app.py"]


def test_the_cli_is_the_pinned_version() -> None:
    assert CDK.exists(), "node_modules/.bin/cdk is missing: run `npm ci` (make test does)"
    assert json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"]["aws-cdk"] == CDK_CLI_VERSION
    lock = json.loads((REPO_ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/aws-cdk"]["version"] == CDK_CLI_VERSION
    version = subprocess.run([str(CDK), "--version"], capture_output=True, text=True, check=True).stdout
    assert version.startswith(CDK_CLI_VERSION)


def test_cdk_json_turns_off_notices_and_telemetry() -> None:
    cdk_json = json.loads((REPO_ROOT / "cdk.json").read_text())
    assert cdk_json["notices"] is False
    assert cdk_json["context"]["cli-telemetry"] is False


def cdk_synth(tmp_path: Path, environment: dict[str, str], *context: str) -> subprocess.CompletedProcess[str]:
    synth = [str(CDK), "synth", "--quiet", "--no-notices", "--output", str(tmp_path / "cdk.out")]
    for setting in context:
        synth += ["-c", setting]
    return subprocess.run(
        [*synth, *app_command()],
        cwd=REPO_ROOT,
        env=environment,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )


@pytest.mark.parametrize("collector", ["ec2", "fargate"])
def test_cdk_synth_succeeds_offline(tmp_path: Path, wheelhouse: Path, collector: str) -> None:
    """The EC2 bundle's wheels come from a local wheelhouse (the Fargate variant bundles nothing at synth)."""
    completed = cdk_synth(tmp_path, offline_environment(tmp_path, wheelhouse), f"collector={collector}")
    assert completed.returncode == 0, completed.stdout + completed.stderr
    outdir = tmp_path / "cdk.out"
    assert {path.name.removesuffix(".template.json") for path in outdir.glob("*.template.json")} == STACKS
    collector_template = (outdir / "CsmCollector.template.json").read_text()
    expected = "AWS::EC2::Instance" if collector == "ec2" else "AWS::ECS::Service"
    assert expected in collector_template
    vendored = list(outdir.glob("asset.*/vendor/boto3/__init__.py"))
    assert len(vendored) == (1 if collector == "ec2" else 0)


def test_an_ec2_synth_that_cannot_vendor_the_bundle_fails_with_one_clear_message(tmp_path: Path) -> None:
    completed = cdk_synth(tmp_path, offline_environment(tmp_path))
    assert completed.returncode != 0
    (message,) = [line for line in completed.stderr.splitlines() if line.startswith("csm-collector CDK app:")]
    assert "cannot build the EC2 collector's package" in message
    assert "Make PyPI reachable from this machine" in message
    assert "Traceback" not in completed.stderr
    assert not list((tmp_path / "cdk.out").glob("*.template.json"))
