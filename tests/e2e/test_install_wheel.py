"""Installing from git, as the README's CI recipe does: the wheel built from the tree, installed into a fresh
virtual environment, run from another folder. Without its extra the demo names the install that brings it,
for this very wheel; that command, run as printed, makes the demo work."""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers import ROOT
from tests.test_version import newest_version

pytestmark = [pytest.mark.slow, pytest.mark.timeout(900)]


def run(*command: str | Path, cwd: Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PIP_REQUIRE_VIRTUALENV"}}
    result = subprocess.run([str(part) for part in command], capture_output=True, text=True, cwd=cwd, env=env)
    if check:
        assert result.returncode == 0, result.stderr[-2000:]
    return result


def clone_of_the_tree(destination: Path) -> Path:
    """The files a clone has (tracked and new, not ignored): no stale build/ of the checkout gets in."""
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        capture_output=True,
        cwd=ROOT,
        check=True,
    ).stdout.decode()
    for name in filter(None, listed.split("\0")):
        source = ROOT / name
        if source.is_file() and not source.is_symlink():
            (destination / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination / name)
    return destination


def test_the_wheel_installs_in_a_fresh_venv_and_its_demo_runs_from_another_folder(tmp_path: Path) -> None:
    version = newest_version()
    source = clone_of_the_tree(tmp_path / "clone")
    run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", tmp_path / "dist", source, cwd=tmp_path)
    [wheel] = (tmp_path / "dist").glob("csm_collector-*.whl")
    assert wheel.name == f"csm_collector-{version}-py3-none-any.whl"
    venv = tmp_path / "venv"
    run(sys.executable, "-m", "venv", venv, cwd=tmp_path)
    pip, collector = venv / "bin" / "pip", venv / "bin" / "csm-collector"
    run(pip, "install", "-q", wheel, cwd=tmp_path)
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()

    assert run(collector, "--version", cwd=elsewhere).stdout.strip() == f"csm-collector {version}"
    missing = run(collector, "demo", cwd=elsewhere, check=False)
    assert missing.returncode == 1
    [line] = missing.stderr.splitlines()
    hint = line.partition("the demo needs boto3 and moto: ")[2]
    assert hint == f"pip install 'csm-collector[demo] @ {wheel.as_uri()}'"

    run(venv / "bin" / shlex.split(hint)[0], *shlex.split(hint)[1:], "-q", cwd=elsewhere)  # as printed
    demo = run(collector, "demo", "--output-dir", "out", cwd=elsewhere)
    assert '"s3:PutObject"' in demo.stdout and '"Version": "2012-10-17"' in demo.stdout
    assert (elsewhere / "out" / "policy.json").is_file()
