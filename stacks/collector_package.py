"""The collector package as a CDK file asset for the EC2 collector, bundled on this machine (no Docker).

The asset holds `collector_runtime/` and `pyproject.toml`, plus boto3 and orjson built for CPython 3.11 on
arm64 in `vendor/` (AL2023 ships Python module RPMs only for its own Python 3.9). Without a package index
the bundle is shipped without `vendor/`: the collector still runs (stdlib only), but cannot publish to
S3/SSM until the next deploy from a machine that can reach PyPI. Synth never fails for lack of network.
"""

from __future__ import annotations

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

REPO_ROOT = Path(__file__).resolve().parent.parent
PACKAGE_DIR = "collector_runtime"
VENDOR_DIR = "vendor"
# Exactly the `aws` and `fast` extras' runtime closure, pinned so the bundle (and its asset hash) is stable.
VENDORED_REQUIREMENTS = (
    "boto3==1.44.5",
    "botocore==1.44.5",
    "s3transfer==0.19.3",
    "jmespath==1.1.0",
    "python-dateutil==2.9.0.post0",
    "six==1.17.0",
    "urllib3==2.8.0",
    "orjson==3.13.0",
)
TARGET_PLATFORM = (
    "--platform=manylinux2014_aarch64",
    "--implementation=cp",
    "--python-version=3.11",
    "--only-binary=:all:",
)
PIP_TIMEOUT_SECONDS = 300
DEFAULT_PIP = (sys.executable, "-m", "pip")
# Never pulled: bundling always happens locally, and CDK only needs an image name to describe the asset.
UNUSED_BUNDLING_IMAGE = "public.ecr.aws/docker/library/python:3.11-slim"


def bundle_collector_package(
    repo_root: Path, output_dir: Path, *, pip: Sequence[str] = DEFAULT_PIP, pip_options: Sequence[str] = ()
) -> bool:
    """Write the bundle into `output_dir`; True if the dependencies were vendored, False if shipped without."""
    copy_package(repo_root, output_dir)
    return vendor_dependencies(output_dir / VENDOR_DIR, pip=pip, pip_options=pip_options)


def copy_package(repo_root: Path, output_dir: Path) -> None:
    shutil.copytree(
        repo_root / PACKAGE_DIR,
        output_dir / PACKAGE_DIR,
        ignore=shutil.ignore_patterns("__pycache__", "*.pyc"),
        dirs_exist_ok=True,
    )
    shutil.copy2(repo_root / "pyproject.toml", output_dir / "pyproject.toml")


def pip_install_command(target: Path, *, pip: Sequence[str], pip_options: Sequence[str]) -> list[str]:
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
        *TARGET_PLATFORM,
        *pip_options,
        *VENDORED_REQUIREMENTS,
    ]


def vendor_dependencies(target: Path, *, pip: Sequence[str], pip_options: Sequence[str]) -> bool:
    command = pip_install_command(target, pip=pip, pip_options=pip_options)
    try:
        completed = subprocess.run(command, capture_output=True, text=True, timeout=PIP_TIMEOUT_SECONDS, check=False)
    except (OSError, subprocess.TimeoutExpired) as error:
        return _ship_without_dependencies(target, str(error))
    if completed.returncode != 0:
        return _ship_without_dependencies(target, _last_line(completed.stderr) or f"exit status {completed.returncode}")
    return True


def _ship_without_dependencies(target: Path, why: str) -> bool:
    shutil.rmtree(target, ignore_errors=True)
    print(
        f"WARNING csm-collector: could not vendor boto3/orjson for the EC2 collector ({why}); shipping the "
        "collector without them: it runs, but cannot publish to S3/SSM until you deploy from a machine "
        "that reaches PyPI.",
        file=sys.stderr,
    )
    return False


def _last_line(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


@jsii.implements(cdk.ILocalBundling)
class LocalCollectorBundler:
    """CDK's local-bundling hook: always bundles here, so Docker is never needed."""

    def __init__(self, repo_root: Path, *, pip: Sequence[str] = DEFAULT_PIP, pip_options: Sequence[str] = ()) -> None:
        self.repo_root = repo_root
        self.pip = tuple(pip)
        self.pip_options = tuple(pip_options)
        self.vendored: bool | None = None  # None until CDK asks for the bundle

    def try_bundle(self, output_dir: str, options: object = None) -> bool:
        self.vendored = bundle_collector_package(
            self.repo_root, Path(output_dir), pip=self.pip, pip_options=self.pip_options
        )
        return True


class CollectorPackage(Construct):
    """`asset` is the zipped bundle; its hash is the hash of the bundle, so any change to it redeploys."""

    def __init__(self, scope: Construct, construct_id: str, *, repo_root: Path = REPO_ROOT) -> None:
        super().__init__(scope, construct_id)
        self.bundler = LocalCollectorBundler(repo_root)
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
