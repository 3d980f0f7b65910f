"""The EC2 collector's package bundle: what it contains, how pip is asked for arm64 wheels, and that a
machine without a package index still gets a working (unvendored) bundle instead of a failed synth."""

from __future__ import annotations

import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from stacks.collector_package import (
    PACKAGE_DIR,
    VENDOR_DIR,
    VENDORED_REQUIREMENTS,
    LocalCollectorBundler,
    bundle_collector_package,
    pip_install_command,
)
from tests.infra.synth import REPO_ROOT

NO_INDEX = ("--no-index",)


def test_pip_is_asked_for_cpython_311_arm64_wheels_only(tmp_path: Path) -> None:
    command = pip_install_command(tmp_path / "vendor", pip=("pip",), pip_options=())
    assert "--platform=manylinux2014_aarch64" in command
    assert "--implementation=cp" in command
    assert "--python-version=3.11" in command
    assert "--only-binary=:all:" in command
    assert f"--target={tmp_path / 'vendor'}" in command
    assert "--no-deps" in command  # the closure is pinned below, so nothing drifts
    assert command[-len(VENDORED_REQUIREMENTS) :] == list(VENDORED_REQUIREMENTS)


def test_vendored_requirements_pin_boto3_like_the_aws_extra_and_orjson() -> None:
    pins = dict(requirement.split("==") for requirement in VENDORED_REQUIREMENTS)
    assert pins["boto3"] == "1.44.5"
    assert pins["botocore"] == "1.44.5"
    assert "orjson" in pins
    assert 'aws = ["boto3==1.44.5"]' in (REPO_ROOT / "pyproject.toml").read_text()


def test_without_a_package_index_the_bundle_ships_the_collector_without_vendor(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    empty_wheelhouse = tmp_path / "no-wheels"
    empty_wheelhouse.mkdir()
    output = tmp_path / "bundle"
    vendored = bundle_collector_package(
        REPO_ROOT, output, pip_options=(*NO_INDEX, f"--find-links={empty_wheelhouse}", "--isolated")
    )
    assert vendored is False
    assert not (output / VENDOR_DIR).exists()
    assert (output / PACKAGE_DIR / "__main__.py").is_file()
    assert (output / PACKAGE_DIR / "data" / "iam_mapping.json").is_file()
    assert (output / "pyproject.toml").is_file()
    assert not list(output.rglob("__pycache__"))
    assert "could not vendor boto3/orjson" in capsys.readouterr().err


def test_a_missing_python_is_the_same_fallback_not_a_crash(tmp_path: Path) -> None:
    vendored = bundle_collector_package(REPO_ROOT, tmp_path, pip=(str(tmp_path / "no-such-python"), "-m", "pip"))
    assert vendored is False
    assert (tmp_path / PACKAGE_DIR / "commands" / "cli.py").is_file()


RUN_FROM_BUNDLE = (
    "import runpy, sys; sys.path[:0] = sys.argv[1:3]; import collector_runtime; print(collector_runtime.__file__); "
    "sys.argv = ['csm-collector', '--version']; runpy.run_module('collector_runtime', run_name='__main__')"
)


def test_the_unzipped_bundle_runs_with_the_standard_library_alone(tmp_path: Path) -> None:
    """What the instance does: unzip with `python -m zipfile -e`, PYTHONPATH=<dir>/vendor:<dir>, run the module."""
    bundle = tmp_path / "bundle"
    bundle_collector_package(REPO_ROOT, bundle, pip_options=(*NO_INDEX, "--isolated"))
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(bundle.rglob("*")):
            zipped.write(path, path.relative_to(bundle))
    unpacked = tmp_path / "unpacked"
    subprocess.run([sys.executable, "-m", "zipfile", "-e", str(archive), str(unpacked)], check=True)
    completed = subprocess.run(
        [sys.executable, "-I", "-S", "-c", RUN_FROM_BUNDLE, str(unpacked / VENDOR_DIR), str(unpacked)],
        capture_output=True,
        text=True,
        check=False,
    )
    assert completed.returncode == 0, completed.stderr
    module_file, version = completed.stdout.splitlines()
    assert module_file.startswith(str(unpacked))
    assert version.startswith("csm-collector ")


def test_the_cdk_hook_always_bundles_locally_and_remembers_whether_it_vendored(tmp_path: Path) -> None:
    bundler = LocalCollectorBundler(REPO_ROOT, pip_options=(*NO_INDEX, "--isolated"))
    assert bundler.vendored is None
    assert bundler.try_bundle(str(tmp_path)) is True
    assert bundler.vendored is False
