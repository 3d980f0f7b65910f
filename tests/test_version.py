"""`csm-collector --version` prints the version CHANGELOG.md describes last (pyproject.toml reads the same
`collector_runtime.__version__`: tests/e2e/test_install_wheel.py checks the built wheel's)."""

from __future__ import annotations

import re
import subprocess
import sys

from tests.helpers import ROOT


def newest_version() -> str:
    """The first `## X.Y.Z` heading of CHANGELOG.md."""
    match = re.search(r"^## (\d+\.\d+\.\d+)\b", (ROOT / "CHANGELOG.md").read_text(), re.MULTILINE)
    assert match, "CHANGELOG.md has no version heading"
    return match[1]


def test_version_is_the_changelogs_newest() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "collector_runtime", "--version"], capture_output=True, text=True, cwd=ROOT
    )
    assert result.returncode == 0 and result.stderr == ""
    assert result.stdout == f"csm-collector {newest_version()}\n"
