"""The collector package as a CDK file asset for the EC2 collector, bundled on this machine (no Docker).

The asset holds `collector_runtime/` and `pyproject.toml`, plus the pinned runtime requirements
(`collector-requirements.txt`: boto3, orjson and msgspec with their closure) built for CPython 3.11 on the configured
architecture (arm64 or x86_64) in `vendor/` (AL2023 ships Python module RPMs only for its own Python 3.9). The
EC2 collector always publishes to S3/SSM, and `listen` exits at start without boto3, so a bundle without its
dependencies cannot run: when pip cannot fetch them (no package index), the synth fails with one message saying
why and what to do.
"""

from __future__ import annotations

import importlib.metadata
import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import cast

import aws_cdk as cdk
import jsii
from aws_cdk import aws_s3_assets as s3_assets
from constructs import Construct

from .config import Architecture

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = "collector_runtime"
VENDOR_DIR = "vendor"
# Read by the bundler below and by the Dockerfile (`pip install --no-deps -r`): one list for both collectors.
REQUIREMENTS_FILE = "collector-requirements.txt"
# pip's platform tag per architecture (manylinux2014: glibc 2.17+; AL2023 has 2.34).
WHEEL_PLATFORMS = {Architecture.ARM64: "manylinux2014_aarch64", Architecture.X86_64: "manylinux2014_x86_64"}


def target_platform(architecture: Architecture = Architecture.ARM64) -> tuple[str, ...]:
    """pip's options for CPython 3.11 wheels of the instance's architecture, wheels only."""
    return (
        f"--platform={WHEEL_PLATFORMS[architecture]}",
        "--implementation=cp",
        "--python-version=3.11",
        "--only-binary=:all:",
    )


TARGET_PLATFORM = target_platform()
PIP_TIMEOUT_SECONDS = 300
DEFAULT_PIP = (sys.executable, "-m", "pip")
# Never pulled: bundling always happens locally, and CDK only needs an image name to describe the asset.
UNUSED_BUNDLING_IMAGE = "public.ecr.aws/docker/library/python:3.11-slim"


class BundlingError(RuntimeError):
    """The EC2 collector's bundle cannot be built as a collector that runs; the message says what to do."""


def runtime_requirements(repo_root: Path = REPO_ROOT) -> tuple[str, ...]:
    """The pinned `name==version` lines of the requirements file, in order."""
    lines = (line.split("#", 1)[0].strip() for line in (repo_root / REQUIREMENTS_FILE).read_text().splitlines())
    return tuple(line for line in lines if line)


def bundle_collector_package(
    repo_root: Path,
    output_dir: Path,
    *,
    pip: Sequence[str] = DEFAULT_PIP,
    pip_options: Sequence[str] = (),
    architecture: Architecture = Architecture.ARM64,
) -> None:
    """Write the bundle into `output_dir`, dependencies vendored; raise BundlingError when they cannot be."""
    copy_package(repo_root, output_dir)
    target = output_dir / VENDOR_DIR
    vendor_dependencies(repo_root, target, pip=pip, pip_options=pip_options, architecture=architecture)
    check_vendored(target, runtime_requirements(repo_root), architecture)


def copy_package(repo_root: Path, output_dir: Path) -> None:
    shutil.copytree(
        repo_root / PACKAGE_DIR,
        output_dir / PACKAGE_DIR,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    shutil.copy2(repo_root / "pyproject.toml", output_dir / "pyproject.toml")


def pip_install_command(
    requirements_file: Path,
    target: Path,
    *,
    pip: Sequence[str],
    pip_options: Sequence[str],
    architecture: Architecture = Architecture.ARM64,
) -> list[str]:
    return [
        *pip,
        "install",
        "--quiet",
        "--no-color",
        "--disable-pip-version-check",
        "--no-input",
        "--no-compile",
        "--no-deps",
        "--timeout=20",
        "--retries=1",
        f"--target={target}",
        *target_platform(architecture),
        *pip_options,
        f"--requirement={requirements_file}",
    ]


def vendor_dependencies(
    repo_root: Path,
    target: Path,
    *,
    pip: Sequence[str],
    pip_options: Sequence[str],
    architecture: Architecture = Architecture.ARM64,
) -> None:
    command = pip_install_command(
        repo_root / REQUIREMENTS_FILE, target, pip=pip, pip_options=pip_options, architecture=architecture
    )
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        raise BundlingError(cannot_vendor_message(str(error), architecture)) from None
    if completed.returncode != 0:
        why = _last_line(completed.stderr) or f"exit {completed.returncode}"
        raise BundlingError(cannot_vendor_message(why, architecture))


def check_vendored(target: Path, requirements: Sequence[str], architecture: Architecture = Architecture.ARM64) -> None:
    """Every pinned distribution is in `vendor/` at its pinned version (pip can exit 0 having installed less)."""
    found = {
        _canonical(dist.metadata["Name"]): dist.version for dist in importlib.metadata.distributions(path=[str(target)])
    }
    missing = [line for line in requirements if found.get(_canonical(line.split("==")[0])) != line.split("==")[1]]
    if missing:
        raise BundlingError(cannot_vendor_message(f"not installed: {', '.join(missing)}", architecture))


def cannot_vendor_message(why: str, architecture: Architecture = Architecture.ARM64) -> str:
    return (
        "cannot build the EC2 collector's package: pip could not install its pinned dependencies "
        f"({REQUIREMENTS_FILE}: boto3, orjson, msgspec and their closure, for Python 3.11 on "
        f"{architecture.value}): {why}. "
        "The collector publishes to S3 and SSM and cannot start without boto3, so the synth stops instead of "
        "shipping a collector that would crash-loop. Make PyPI reachable from this machine (for pip: "
        "HTTPS_PROXY, or PIP_INDEX_URL for a mirror) and run the command again."
    )


def _canonical(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@jsii.implements(cdk.ILocalBundling)
class LocalCollectorBundler:
    """CDK's local-bundling hook: always bundles here, so Docker is never needed. A failure is kept in
    `failure` (the jsii bridge turns the exception into a generic error on its way back)."""

    def __init__(
        self,
        repo_root: Path,
        *,
        pip: Sequence[str] = DEFAULT_PIP,
        pip_options: Sequence[str] = (),
        architecture: Architecture = Architecture.ARM64,
    ) -> None:
        self.repo_root = repo_root
        self.pip = tuple(pip)
        self.pip_options = tuple(pip_options)
        self.architecture = architecture
        self.failure: str | None = None

    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        try:
            bundle_collector_package(
                self.repo_root,
                Path(output_dir),
                pip=self.pip,
                pip_options=self.pip_options,
                architecture=self.architecture,
            )
        except BundlingError as error:
            self.failure = str(error)
            raise
        return True


class CollectorPackage(Construct):
    """`asset` is the zipped bundle; its hash is the hash of the bundle, so any change to it redeploys.

    CDK bundles when the asset is created, for the stacks being synthesized (`cdk deploy OtherStack` skips
    it); a bundle that cannot be built raises BundlingError here.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        repo_root: Path = REPO_ROOT,
        bundler: LocalCollectorBundler | None = None,
        architecture: Architecture = Architecture.ARM64,
    ) -> None:
        super().__init__(scope, construct_id)
        self.bundler = bundler or LocalCollectorBundler(repo_root, architecture=architecture)
        try:
            self.asset = s3_assets.Asset(
                self,
                "Asset",
                path=str(repo_root / PACKAGE_DIR),
                asset_hash_type=cdk.AssetHashType.OUTPUT,
                bundling=cdk.BundlingOptions(
                    image=cdk.DockerImage.from_registry(UNUSED_BUNDLING_IMAGE),
                    # @jsii.implements registers the interface at runtime; mypy cannot see that.
                    local=cast(cdk.ILocalBundling, self.bundler),
                ),
            )
        except RuntimeError:
            if self.bundler.failure:
                raise BundlingError(self.bundler.failure) from None
            raise
