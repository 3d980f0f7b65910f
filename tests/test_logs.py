"""Logging is quiet by default: the collector's own INFO lines, and only warnings from libraries."""

from __future__ import annotations

import subprocess
import sys

from tests.helpers import run_cli, without_aws_credentials

EMIT = """
import logging
from collector_runtime.logs import configure_logging
configure_logging({fmt!r})
logging.getLogger("botocore.credentials").info("Found credentials in environment variables.")
logging.getLogger("urllib3.connectionpool").debug("Starting new HTTPS connection")
logging.getLogger("csm_collector").info("ours")
logging.getLogger("botocore").warning("theirs, a warning")
"""


def test_only_the_collectors_info_lines_and_libraries_warnings_are_shown() -> None:
    for fmt in ("text", "json"):
        result = subprocess.run([sys.executable, "-c", EMIT.format(fmt=fmt)], capture_output=True, text=True)
        assert "Found credentials" not in result.stderr and "Starting new" not in result.stderr
        assert "ours" in result.stderr and "theirs, a warning" in result.stderr


def test_botocores_credential_lines_do_not_reach_the_terminal() -> None:
    env = without_aws_credentials(AWS_ACCESS_KEY_ID="AKIDEXAMPLE", AWS_SECRET_ACCESS_KEY="x", AWS_MAX_ATTEMPTS="1")
    env["AWS_ENDPOINT_URL"] = "http://127.0.0.1:9"  # nothing listens there: the call fails at once
    result = run_cli("compare", "--observed", "x.json", "--role", "r", env=env)
    assert "Found credentials" not in result.stderr
