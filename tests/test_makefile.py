"""`make test` says what it costs before it starts, and without apt-get it stops at once with one line,
before it creates the venv (macOS, Amazon Linux)."""

from __future__ import annotations

import subprocess
from pathlib import Path

from tests.helpers import ROOT


def test_without_apt_get_make_test_stops_before_installing_anything(tmp_path: Path) -> None:
    venv = tmp_path / "venv"
    result = subprocess.run(
        ["/usr/bin/make", "--no-print-directory", "-C", str(ROOT), "test", f"VENV={venv}", f"GO={tmp_path}/no-go"],
        capture_output=True,
        text=True,
        env={"PATH": str(tmp_path / "no-such-bin")},  # no apt-get (nor python3, npm: nothing could install)
        timeout=60,
    )
    assert result.returncode != 0
    assert "make test installs:" in result.stdout and "GB" in result.stdout and "minutes" in result.stdout
    ours = [line for line in result.stderr.splitlines() if not line.startswith("make:")]  # make's own lines
    assert len(ours) == 1 and ours[0].startswith("make test needs apt-get (Debian/Ubuntu) for the Go clients")
    assert "make deploy-setup need only Python" in ours[0]
    assert not venv.exists()


def test_deploy_setup_installs_the_infra_extra_and_the_node_tools_only() -> None:
    result = subprocess.run(
        ["/usr/bin/make", "--no-print-directory", "-n", "-B", "-C", str(ROOT), "deploy-setup"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "pip install --quiet -e '.[infra]'" in result.stdout and "npm ci" in result.stdout
    assert "apt-get" not in result.stdout and "sudo" not in result.stdout and "[dev]" not in result.stdout
