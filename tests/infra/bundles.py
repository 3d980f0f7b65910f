"""The EC2 collector's bundle as the instance gets it, and its systemd unit as this machine can run it.

`unpacked_bundle` builds the real bundle (the pinned requirements from a local wheelhouse, no index), zips
it like the CDK asset and unpacks it with `python -m zipfile -e`, as the boot script does. `UnitCommand`
reads a rendered unit's `Environment=` lines and `ExecStart`, and maps the instance's paths to local ones.
"""

from __future__ import annotations

import shlex
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path

from stacks import collector_boot
from stacks.collector_package import REQUIREMENTS_FILE, TARGET_PLATFORM, bundle_collector_package
from tests.infra.synth import REPO_ROOT

# Fake credentials where the instance would have its instance profile's; no AWS config files.
FAKE_CREDENTIALS = {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing"}


def download_wheelhouse(wheelhouse: Path) -> Path:
    """The pinned requirements as arm64 wheels, from the package index (pip's cache serves repeat runs)."""
    command = [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--disable-pip-version-check"]
    command += [*TARGET_PLATFORM, f"--dest={wheelhouse}", f"--requirement={REPO_ROOT / REQUIREMENTS_FILE}"]
    subprocess.run(command, check=True, capture_output=True, text=True, timeout=300)
    return wheelhouse


def offline_pip_options(wheelhouse: Path) -> tuple[str, ...]:
    return ("--no-index", f"--find-links={wheelhouse}", "--isolated")


def unpacked_bundle(tmp_path: Path, pip_options: tuple[str, ...]) -> Path:
    """Bundle, zip, unzip with `python -m zipfile -e` (what the instance does); returns the unpacked directory."""
    bundle = tmp_path / "bundle"
    bundle_collector_package(REPO_ROOT, bundle, pip_options=pip_options)
    archive = tmp_path / "bundle.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for path in sorted(bundle.rglob("*")):
            zipped.write(path, path.relative_to(bundle))
    unpacked = tmp_path / "unpacked"
    subprocess.run([sys.executable, "-m", "zipfile", "-e", str(archive), str(unpacked)], check=True)
    return unpacked


@dataclass(frozen=True)
class UnitCommand:
    """The `Environment=` settings and `ExecStart` argv of a rendered systemd unit."""

    environment: dict[str, str]
    argv: list[str]

    @classmethod
    def parse(cls, unit: str) -> UnitCommand:
        environment: dict[str, str] = {}
        argv: list[str] = []
        for line in unit.splitlines():
            if line.startswith("Environment="):
                name, value = shlex.split(line.removeprefix("Environment="))[0].split("=", 1)
                environment[name] = value
            elif line.startswith("ExecStart="):
                argv = shlex.split(line.removeprefix("ExecStart="))
        return cls(environment, argv)

    def on_this_machine(self, install_dir: Path, state_dir: Path) -> UnitCommand:
        """The instance's paths replaced by local ones; the interpreter becomes this one, without site-packages
        (`-S`), so only the unit's PYTHONPATH (the bundle) provides packages, as on a fresh AL2023 instance."""
        local = str(install_dir)
        environment = {key: value.replace(collector_boot.INSTALL_DIR, local) for key, value in self.environment.items()}
        assert self.argv[0] == collector_boot.PYTHON
        argv = [str(state_dir) if arg == collector_boot.STATE_DIR else arg for arg in self.argv[1:]]
        return UnitCommand(environment, [sys.executable, "-S", *argv])

    def process_environment(self, home: Path) -> dict[str, str]:
        """What systemd gives the service: the unit's settings on a minimal environment (no AWS profile)."""
        return {
            "PATH": "/usr/bin:/bin",
            "HOME": str(home),
            "AWS_CONFIG_FILE": str(home / "no-config"),
            "AWS_SHARED_CREDENTIALS_FILE": str(home / "no-credentials"),
            **FAKE_CREDENTIALS,
            **self.environment,
        }
