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


def offline_environment(tmp_path: Path) -> dict[str, str]:
    """No telemetry, no version check, no Node banner, and a pip that cannot reach any index (the bundler falls
    back to an unvendored package)."""
    empty_wheelhouse = tmp_path / "no-wheels"
    empty_wheelhouse.mkdir(exist_ok=True)
    return {
        **os.environ,
        "CDK_DISABLE_CLI_TELEMETRY": "true",
        "CDK_DISABLE_VERSION_CHECK": "1",
        "JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION": "20",
        "PIP_NO_INDEX": "1",
        "PIP_FIND_LINKS": str(empty_wheelhouse),
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


@pytest.mark.parametrize("collector", ["ec2", "fargate"])
def test_cdk_synth_succeeds_offline(tmp_path: Path, collector: str) -> None:
    outdir = tmp_path / "cdk.out"
    synth = [str(CDK), "synth", "--quiet", "--no-notices", "-c", f"collector={collector}", "--output", str(outdir)]
    completed = subprocess.run(
        [*synth, *app_command()],
        cwd=REPO_ROOT,
        env=offline_environment(tmp_path),
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert completed.returncode == 0, completed.stdout + completed.stderr
    assert {path.name.removesuffix(".template.json") for path in outdir.glob("*.template.json")} == STACKS
    collector_template = (outdir / "CsmCollector.template.json").read_text()
    expected = "AWS::EC2::Instance" if collector == "ec2" else "AWS::ECS::Service"
    assert expected in collector_template
