"""Bounded work on every file a command reads: past a limit (collector_runtime/limits.py) the file is bad
input, exit 2 and one line naming it, never a traceback nor minutes of work (timeouts assert the latter)."""

from __future__ import annotations

import gzip
import io
import json
from pathlib import Path

import pytest

from collector_runtime import input_files
from collector_runtime.errors import BadInput
from collector_runtime.limits import MAX_JSON_DEPTH
from collector_runtime.outputs.state_file import restore_state
from tests.conftest import call, datagram
from tests.helpers import assert_one_error_line, run_cli

POLICY = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}


def compare_files(tmp_path: Path, granted: bytes) -> list[str]:
    (tmp_path / "observed.json").write_text(json.dumps(POLICY))
    (tmp_path / "granted.json").write_bytes(granted)
    return ["compare", "--observed", str(tmp_path / "observed.json"), "--policy-file", str(tmp_path / "granted.json")]


@pytest.mark.timeout(60)
def test_compare_refuses_a_policy_nested_200000_deep(tmp_path: Path) -> None:
    result = run_cli(*compare_files(tmp_path, b"[" * 200_000))
    assert_one_error_line(result, 2, "granted.json", f"nests deeper than {MAX_JSON_DEPTH} levels")


@pytest.mark.timeout(60)
def test_compare_refuses_a_policy_just_over_the_nesting_limit(tmp_path: Path) -> None:
    deep: object = POLICY
    for _ in range(MAX_JSON_DEPTH):
        deep = {"Version": "2012-10-17", "Statement": [], "Extra": deep}
    result = run_cli(*compare_files(tmp_path, json.dumps(deep).encode()))
    assert_one_error_line(result, 2, "granted.json", "nests deeper")


@pytest.mark.timeout(60)
def test_compare_refuses_a_policy_file_over_the_size_limit(tmp_path: Path) -> None:
    padding = " " * (input_files.MAX_JSON_FILE_BYTES + 1)
    result = run_cli(*compare_files(tmp_path, (json.dumps(POLICY) + padding).encode()))
    assert_one_error_line(result, 2, "granted.json", "larger than")


@pytest.mark.timeout(60)
def test_replay_refuses_a_gzip_bomb_of_newlines_quickly(tmp_path: Path) -> None:
    capture = tmp_path / "bomb.jsonl.gz"
    with gzip.open(capture, "wb", compresslevel=9) as bomb:  # ~200 KB holding 200 MiB of newlines
        for _ in range(200):
            bomb.write(b"\n" * (1 << 20))
    assert capture.stat().st_size < 400_000
    result = run_cli("replay", str(capture), "--output-dir", str(tmp_path / "out"), timeout=50)
    assert_one_error_line(result, 2, "bomb.jsonl.gz", "more than 10,000,000 lines")


@pytest.mark.timeout(60)
def test_replay_refuses_a_line_longer_than_any_datagram_from_stdin(tmp_path: Path) -> None:
    line = datagram(call("S3", "ListBuckets")).decode()
    stdin = line + "\n" + "x" * (input_files.MAX_CAPTURE_LINE_BYTES + 1) + "\n"
    result = run_cli("replay", "-", "--output-dir", str(tmp_path / "out"), stdin=stdin, timeout=50)
    assert_one_error_line(result, 2, "-", "a line longer than")


@pytest.mark.timeout(60)
def test_explain_refuses_a_state_file_nested_too_deeply(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("[" * 200_000)
    result = run_cli("explain", "--output-dir", str(tmp_path))
    assert_one_error_line(result, 2, "state.json", "nests deeper")


def test_capture_limits_on_size_lines_and_line_length(monkeypatch: pytest.MonkeyPatch) -> None:
    line = datagram(call("S3", "ListBuckets"))
    capture = (line + b"\r\n\n  \n") * 10
    assert list(input_files.capture_lines(io.BytesIO(capture), "c")) == [line] * 10  # within every limit
    for limit, value, message in (
        ("MAX_CAPTURE_BYTES", len(capture) - 1, "more than"),
        ("MAX_CAPTURE_LINES", 29, "lines"),
        ("MAX_CAPTURE_LINE_BYTES", len(line) - 1, "a line longer"),
    ):
        with monkeypatch.context() as patched:
            patched.setattr(input_files, limit, value)
            with pytest.raises(BadInput, match=message):
                list(input_files.capture_lines(io.BytesIO(capture), "c"))


def test_nesting_depth_is_counted_without_recursion() -> None:
    assert input_files.nesting_depth(POLICY) == 3
    assert input_files.nesting_depth("text") == 0
    deep: list[object] = []
    for _ in range(100_000):
        deep = [deep]
    assert input_files.nesting_depth(deep) == MAX_JSON_DEPTH + 1  # it stops looking past the limit


def test_the_standard_library_parser_is_bounded_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(input_files, "loads", json.loads)  # where orjson is not installed
    with pytest.raises(BadInput, match="nests deeper"):
        input_files.json_document(b"[" * 200_000, "deep.json")
    with pytest.raises(BadInput, match="is not JSON"):
        input_files.json_document(b"{", "broken.json")


def test_a_state_file_nested_too_deeply_is_set_aside_at_start(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(input_files, "loads", json.loads)  # the standard library's parser, which recurses
    (tmp_path / "state.json").write_text("[" * 200_000)
    restored: list[object] = []
    assert not restore_state(restored.append, tmp_path)  # before: a RecursionError ended `listen`
    assert restored == [] and not (tmp_path / "state.json").exists()
    assert [p.name.startswith("state.json.unreadable-") for p in tmp_path.iterdir()] == [True]


@pytest.mark.timeout(60)
def test_report_html_refuses_a_state_file_nested_too_deeply(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text("[" * 200_000)
    page, out = tmp_path / "r.html", tmp_path / "r"
    result = run_cli("report", "--from-output", str(tmp_path), "--html", str(page), "--output-dir", str(out))
    assert_one_error_line(result, 2, "state.json", "nests deeper")


@pytest.mark.timeout(60)
def test_explain_ignores_a_hostile_stats_file_beside_a_good_state(tmp_path: Path) -> None:
    """stats.json only adds the generalized patterns to explain's answer: a hostile one is left out, not fatal."""
    replayed = tmp_path / "out"
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(datagram(call("S3", "ListBuckets", "app")) + b"\n")
    assert run_cli("replay", str(capture), "--output-dir", str(replayed)).returncode == 0
    (replayed / "stats.json").write_text("[" * 200_000)
    result = run_cli("explain", "--output-dir", str(replayed))
    assert result.returncode == 0 and "Traceback" not in result.stderr
    assert "s3:ListAllMyBuckets" in result.stdout


def test_a_proxy_body_nested_too_deeply_reads_as_no_members() -> None:
    from collector_runtime.sources.proxy.bodies import json_top_level

    assert json_top_level(b"[" * 60_000) == {}
    assert json_top_level(b'{"a": ' + b"[" * 60_000) == {}
