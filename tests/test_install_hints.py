"""Install hints give commands that work from this repository: there is no csm-collector package on PyPI."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

from collector_runtime.install_hint import hint_for
from tests.helpers import ROOT

BY_NAME_ONLY = re.compile(r"""install ['"]?csm-collector(\[[^\]]*\])?(?!\s*@)(['"]|\s|$)""")
WITHOUT = """
import sys
for name in sys.argv[1].split(","):
    sys.modules[name] = None  # as if it were not installed
from collector_runtime.commands.cli import main
sys.exit(main(sys.argv[2:]))
"""


def test_no_hint_names_a_package_that_does_not_exist() -> None:
    docs = sorted((ROOT / "docs").glob("*.md"))
    for path in [ROOT / "README.md", *docs, ROOT / "Dockerfile", *sorted((ROOT / "collector_runtime").rglob("*.py"))]:
        # a bare name is looked up on PyPI; a direct reference (`csm-collector[x] @ git+https://...`) is not
        assert not BY_NAME_ONLY.search(path.read_text()), path


def test_compare_without_boto3_speaks_of_aws_access() -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT, "boto3", "compare", "--observed", "p.json", "--role", "r"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "comparing with a role" in line and "AWS access" in line and "publishing" not in line
    assert "pip install -e '.[aws]' from the repository root (or make setup)" in line


def test_demo_without_moto_is_one_line_with_the_install_command(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-c", WITHOUT, "moto", "demo", "--output-dir", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    assert result.returncode == 1
    [line] = result.stderr.splitlines()
    assert "the demo needs boto3 and moto: pip install -e '.[demo]'" in line


def test_outside_a_checkout_the_hint_names_the_source_pip_recorded() -> None:
    git = {"url": "https://github.com/acme/csm-collector", "vcs_info": {"vcs": "git", "commit_id": "ab12"}}
    wheel = {"url": "file:///tmp/w/csm_collector-0.2.0-py3-none-any.whl", "archive_info": {}}
    folder = {"url": "file:///home/me/csm collector", "dir_info": {}}
    assert hint_for("demo", checkout=False, direct_url=git) == (
        "pip install 'csm-collector[demo] @ git+https://github.com/acme/csm-collector@ab12'"
    )
    assert hint_for("aws", checkout=False, direct_url=wheel) == (
        "pip install 'csm-collector[aws] @ file:///tmp/w/csm_collector-0.2.0-py3-none-any.whl'"
    )
    assert hint_for("proxy", checkout=False, direct_url=folder) == (
        "pip install 'csm-collector[proxy] @ file:///home/me/csm collector'"
    )
    unknown = hint_for("otlp", checkout=False, direct_url=None)
    assert "csm-collector[otlp] @ git+https://" in unknown and "the source you installed from" in unknown
    assert hint_for("demo", checkout=True, direct_url=git).startswith("pip install -e '.[demo]' from the repository")
    for hint in (unknown, hint_for("demo", checkout=False, direct_url=git)):
        assert not BY_NAME_ONLY.search(hint)
