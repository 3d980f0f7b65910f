"""The EC2 collector's package bundle: what it contains, how pip is asked for arm64 wheels from the one
pinned requirements file, and that a bundle whose dependencies cannot be vendored stops the synth with
one message saying why and what to do (the collector cannot run without them: test_bundle_runs_the_unit.py)."""

from __future__ import annotations

import importlib.metadata
import re
from pathlib import Path

import aws_cdk as cdk
import pytest

from stacks.collector_package import (
    PACKAGE_DIR,
    REQUIREMENTS_FILE,
    VENDOR_DIR,
    BundlingError,
    CollectorPackage,
    LocalCollectorBundler,
    bundle_collector_package,
    check_vendored,
    pip_install_command,
    runtime_requirements,
)
from tests.infra.synth import REPO_ROOT


def no_index(tmp_path: Path) -> tuple[str, ...]:
    """pip options for a machine that reaches no package index."""
    empty_wheelhouse = tmp_path / "no-wheels"
    empty_wheelhouse.mkdir(exist_ok=True)
    return ("--no-index", f"--find-links={empty_wheelhouse}", "--isolated")


def canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def test_pip_is_asked_for_cpython_311_arm64_wheels_of_the_pinned_file_only(tmp_path: Path) -> None:
    requirements = REPO_ROOT / REQUIREMENTS_FILE
    command = pip_install_command(requirements, tmp_path / "vendor", pip=("pip",), pip_options=())
    assert "--platform=manylinux2014_aarch64" in command
    assert "--implementation=cp" in command
    assert "--python-version=3.11" in command
    assert "--only-binary=:all:" in command
    assert f"--target={tmp_path / 'vendor'}" in command
    assert "--no-deps" in command  # the closure is pinned in the file, so nothing drifts
    assert command[-1] == f"--requirement={requirements}"


def test_the_requirements_pin_boto3_like_the_aws_extra_and_orjson() -> None:
    pins = dict(requirement.split("==") for requirement in runtime_requirements())
    assert pins["boto3"] == pins["botocore"] == "1.44.5"
    assert "orjson" in pins
    assert 'aws = ["boto3==1.44.5"]' in (REPO_ROOT / "pyproject.toml").read_text()


def test_the_pinned_requirements_are_a_closed_set() -> None:
    """`--no-deps` is only safe if every dependency of a pinned package is pinned too (read from the metadata
    of the same packages installed in this environment)."""
    pinned = {canonical(requirement.split("==")[0]) for requirement in runtime_requirements()}
    for name in pinned:
        for requirement in importlib.metadata.requires(name) or []:
            if "extra ==" in requirement:
                continue
            dependency = canonical(re.split(r"[\s<>=!~;\[(]", requirement, maxsplit=1)[0])
            assert dependency in pinned, f"{name} needs {dependency}, which {REQUIREMENTS_FILE} does not pin"


def test_the_dockerfile_installs_the_same_file_without_resolving_anything_else() -> None:
    dockerfile = (REPO_ROOT / "Dockerfile").read_text()
    assert f"COPY {REQUIREMENTS_FILE} /tmp/csm-collector/" in dockerfile
    assert f"pip install --no-deps --requirement /tmp/csm-collector/{REQUIREMENTS_FILE}" in dockerfile
    assert "pip install --no-deps /tmp/csm-collector " in dockerfile
    assert f"!{REQUIREMENTS_FILE}" in (REPO_ROOT / ".dockerignore").read_text().splitlines()


def test_without_a_package_index_the_bundle_is_refused_with_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(BundlingError) as refused:
        bundle_collector_package(REPO_ROOT, tmp_path / "bundle", pip_options=no_index(tmp_path))
    message = str(refused.value)
    assert message.startswith("cannot build the EC2 collector's package: pip could not install")
    assert "No matching distribution found for boto3==1.44.5" in message  # pip's own reason
    assert "cannot start without boto3" in message
    assert "Make PyPI reachable from this machine" in message
    assert "\n" not in message


def test_a_missing_python_is_the_same_refusal_not_a_crash(tmp_path: Path) -> None:
    with pytest.raises(BundlingError, match="no-such-python"):
        bundle_collector_package(REPO_ROOT, tmp_path, pip=(str(tmp_path / "no-such-python"), "-m", "pip"))
    assert (tmp_path / PACKAGE_DIR / "commands" / "cli.py").is_file()


def test_a_vendor_directory_missing_a_pinned_package_is_refused(tmp_path: Path) -> None:
    """pip can exit 0 having installed less (an edited file, a constraint): what is there is checked."""
    for requirement in runtime_requirements()[1:]:  # everything but boto3
        name, version = requirement.split("==")
        info = tmp_path / f"{name.replace('-', '_')}-{version}.dist-info"
        info.mkdir()
        (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    with pytest.raises(BundlingError, match=r"not installed: boto3==1\.44\.5\."):
        check_vendored(tmp_path, runtime_requirements())
    check_vendored(tmp_path, runtime_requirements()[1:])  # the same directory has the rest


def test_the_cdk_hook_always_bundles_locally_and_keeps_the_reason_it_could_not(tmp_path: Path) -> None:
    bundler = LocalCollectorBundler(REPO_ROOT, pip_options=no_index(tmp_path))
    assert bundler.failure is None
    with pytest.raises(BundlingError):
        bundler.try_bundle(str(tmp_path / "out"))
    assert bundler.failure is not None and "boto3" in bundler.failure
    assert (tmp_path / "out" / PACKAGE_DIR / "__main__.py").is_file()
    assert not (tmp_path / "out" / VENDOR_DIR / "boto3").exists()


def test_the_construct_raises_the_bundling_error_not_the_bridges_generic_one(tmp_path: Path) -> None:
    stack = cdk.Stack(cdk.App(outdir=str(tmp_path / "cdk.out")), "Stack")
    bundler = LocalCollectorBundler(REPO_ROOT, pip_options=no_index(tmp_path))
    with pytest.raises(BundlingError, match=r"^cannot build the EC2 collector's package"):
        CollectorPackage(stack, "Package", bundler=bundler)
