"""`replay` of captures where nothing, or not everything, is usable."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import call, datagram
from tests.helpers import assert_one_error_line, run_cli

pytestmark = pytest.mark.slow


@pytest.mark.parametrize(
    "capture",
    [
        b"\x00\x01garbage\xff\n" * 5,
        json.dumps(call("S3", "GetObject"), indent=2).encode(),  # a pretty-printed document: one line per field
        b'{"Version": 1, "Type": "Nonsense"}\n',
    ],
)
def test_a_capture_with_nothing_usable_is_bad_input(tmp_path: Path, capture: bytes) -> None:
    path = tmp_path / "capture.jsonl"
    path.write_bytes(capture)
    result = run_cli("replay", str(path), "--output-dir", str(tmp_path / "out"))
    assert_one_error_line(result, 2, "nothing usable in", "one JSON datagram per line")
    assert not (tmp_path / "out" / "policy.json").exists()


def test_an_empty_capture_is_bad_input(tmp_path: Path) -> None:
    result = run_cli("replay", "-", "--output-dir", str(tmp_path / "out"), stdin="\n\n")
    assert_one_error_line(result, 2, "no datagrams in -")


def test_some_rejected_lines_among_good_ones_are_a_warning_with_their_count(tmp_path: Path) -> None:
    good = datagram(call("S3", "GetObject", "app"))
    path = tmp_path / "capture.jsonl"
    path.write_bytes(b"\n".join([good, b"not json", good, b"{broken", good]) + b"\n")
    result = run_cli("replay", str(path), "--output-dir", str(tmp_path / "out"))
    assert result.returncode == 0, result.stderr
    [warning] = [line for line in result.stderr.splitlines() if line.strip()]
    assert " WARNING 2 of the events in " in warning and "not_json 2" in warning
    assert "3 calls" in result.stdout and "2 rejected" in result.stdout


def test_a_max_policy_chars_below_one_statement_warns_naming_the_workload(tmp_path: Path) -> None:
    path = tmp_path / "capture.jsonl"
    path.write_bytes(datagram(call("S3", "GetObject", "app")) + b"\n")
    result = run_cli("replay", str(path), "--output-dir", str(tmp_path / "out"), "--max-policy-chars", "60")
    assert result.returncode == 0, result.stderr
    assert "warning: --max-policy-chars 60 is below what one statement of workload 'app' needs" in result.stdout
