"""The one retried first-boot package install that every instance's user data uses, run in bash against
fake dnf/rpm/sleep commands: it retries until dnf succeeds, and fails the script when dnf never does."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from stacks import collector_boot
from stacks.egress import NAT_INSTANCE_COMMANDS, NAT_PACKAGES
from stacks.instances import PACKAGE_INSTALL_ATTEMPTS, dnf_install_commands

pytestmark = pytest.mark.slow

FAKE_DNF = """#!/bin/bash
echo "dnf $*" >> "$FAKE_LOG"
count=$(( $(cat "$FAKE_STATE/failures" 2>/dev/null || echo 0) ))
if [ "$count" -gt 0 ]; then echo $((count - 1)) > "$FAKE_STATE/failures"; exit 1; fi
touch "$FAKE_STATE/installed"
"""
FAKE_RPM = '#!/bin/bash\necho "rpm $*" >> "$FAKE_LOG"\n[ -e "$FAKE_STATE/installed" ]\n'
FAKE_SLEEP = '#!/bin/bash\necho "sleep $*" >> "$FAKE_LOG"\n'


def run_install(tmp_path: Path, failures: int) -> tuple[subprocess.CompletedProcess[str], list[str]]:
    """The commands under `set -euo pipefail` (as in the user data), with dnf failing `failures` times."""
    fakes = tmp_path / "bin"
    fakes.mkdir()
    for name, script in (("dnf", FAKE_DNF), ("rpm", FAKE_RPM), ("sleep", FAKE_SLEEP)):
        (fakes / name).write_text(script)
        (fakes / name).chmod(0o755)
    (tmp_path / "failures").write_text(str(failures))
    script = "\n".join(["set -euo pipefail", *dnf_install_commands(["python3.11", "amazon-cloudwatch-agent"])])
    completed = subprocess.run(
        ["bash", "-c", f"{script}\necho installed-all"],
        env={"PATH": f"{fakes}:/usr/bin:/bin", "FAKE_LOG": str(tmp_path / "log"), "FAKE_STATE": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    return completed, (tmp_path / "log").read_text().splitlines()


def test_the_install_is_retried_until_dnf_succeeds(tmp_path: Path) -> None:
    completed, calls = run_install(tmp_path, failures=2)
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.splitlines()[-1] == "installed-all"
    assert calls == [
        "dnf install -y python3.11 amazon-cloudwatch-agent",
        "sleep 10",
        "dnf install -y python3.11 amazon-cloudwatch-agent",
        "sleep 10",
        "dnf install -y python3.11 amazon-cloudwatch-agent",
        "rpm -q python3.11 amazon-cloudwatch-agent",
    ]
    assert "dnf install failed (attempt 2), retrying in 10 s" in completed.stdout


def test_an_install_that_never_succeeds_fails_the_script_after_the_last_attempt(tmp_path: Path) -> None:
    completed, calls = run_install(tmp_path, failures=1000)
    assert completed.returncode != 0
    assert "installed-all" not in completed.stdout
    assert sum(call.startswith("dnf ") for call in calls) == PACKAGE_INSTALL_ATTEMPTS == 30
    assert calls[-1] == "rpm -q python3.11 amazon-cloudwatch-agent"


def test_the_collector_and_the_nat_instance_use_the_same_retried_install() -> None:
    collector = collector_boot.boot_commands(package_zip="/tmp/p.zip", port=31000, environment={}, log_group_name="lg")
    install = dnf_install_commands(collector_boot.PACKAGES)
    start = collector.index(install[0])
    assert collector[start : start + len(install)] == install
    assert not [line for line in collector if line.startswith("dnf ")]  # no other, unretried install
    nat = list(NAT_INSTANCE_COMMANDS)
    assert nat[1:3] == dnf_install_commands(NAT_PACKAGES)
