"""Install hints give commands that work from this repository: there is no csm-collector package on PyPI."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import ROOT

WITHOUT_BOTO3 = """
import sys
sys.modules["boto3"] = None  # as if boto3 were not installed
from collector_runtime.commands.cli import main
sys.exit(main(sys.argv[1:]))
"""


def test_no_hint_names_a_package_that_does_not_exist() -> None:
    for path in [ROOT / "README.md", ROOT / "Dockerfile", *sorted((ROOT / "collector_runtime").rglob("*.py"))]:
        assert "install 'csm-collector" not in path.read_text(), path
        assert 'install "csm-collector' not in path.read_text(), path


def test_compare_without_boto3_speaks_of_aws_access() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT_BOTO3, "compare", "--observed", "p.json", "--role", "r"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "comparing with a role" in line and "AWS access" in line and "publishing" not in line
    assert "pip install -e '.[aws]' from the repository root (or make setup)" in line
