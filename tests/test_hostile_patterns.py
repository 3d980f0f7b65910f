"""The issue's two examples of input that became a backtracking pattern, through the real commands: two CSM
datagrams that stalled `listen`, and a role policy that hung `compare` (a test timeout is the assertion)."""

from __future__ import annotations

import json
import signal
from pathlib import Path

import pytest

from tests.conftest import call, datagram
from tests.helpers import assert_one_error_line, read_json, run_cli, send, start_listen, wait_for


def denied(resource: str, client_id: str = "app") -> bytes:
    message = (
        "User: arn:aws:iam::123456789012:user/x is not authorized to perform: s3:GetObject "
        f"on resource: {resource} because no identity-based policy allows the s3:GetObject action"
    )
    return datagram(
        call(
            "S3",
            "GetObject",
            client_id,
            FinalHttpStatusCode=403,
            FinalAwsException="AccessDenied",
            FinalAwsExceptionMessage=message,
        )
    )


@pytest.mark.timeout(60)
def test_two_datagrams_naming_wildcard_resources_do_not_stall_listen(tmp_path: Path) -> None:
    out = tmp_path / "out"
    # --exact-names: the names as the messages gave them (a run of 60 `a` would be generalized as a hash)
    process, port = start_listen(out, "--quiet", "--flush-interval", "0.2", "--exact-names")
    send(port, denied("arn:aws:s3:::b/" + "a*" * 15 + "c"), denied("arn:aws:s3:::b/" + "a" * 60))
    send(port, denied("arn:aws:s3:::b/" + "a*" * 400 + "c", "other"), denied("arn:aws:s3:::b/" + "a" * 900, "other"))
    assert wait_for(lambda: (read_json(out / "stats.json") or {}).get("calls") == 4, timeout=30)
    process.send_signal(signal.SIGTERM)
    process.communicate(timeout=30)
    assert process.returncode == 0
    assert not read_json(out / "stats.json").get("calls_dropped")
    # The resource an AccessDenied names is the one the call asked for: each `*` a literal `${*}`, no pattern.
    assert "a${*}" * 15 + "c" in json.dumps(read_json(out / "policies" / "app.json"))
    assert "a${*}" * 400 + "c" in json.dumps(read_json(out / "policies" / "other.json"))


def hostile_policy(tmp_path: Path, action: str) -> Path:
    path = tmp_path / "granted.json"
    path.write_text(
        json.dumps({"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": action, "Resource": "*"}]})
    )
    return path


def observed(tmp_path: Path) -> Path:
    path = tmp_path / "observed.json"
    path.write_text(
        json.dumps(
            {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "s3:GetObject", "Resource": "*"}]}
        )
    )
    return path


@pytest.mark.timeout(60)
def test_compare_with_a_backtracking_action_pattern_answers(tmp_path: Path) -> None:
    granted = hostile_policy(tmp_path, "s3:" + "?*" * 60 + "x")  # within the length limit: evaluated
    argv = ["--observed", str(observed(tmp_path)), "--policy-file", str(granted), "--format", "json"]
    result = run_cli("compare", *argv, timeout=50)
    assert result.returncode == 0, result.stderr
    missing = json.loads(result.stdout)["missing"]  # the pattern needs an x at the end
    assert missing == [{"action": "s3:GetObject", "explicitly_denied": False}]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("action", ["s3:" + "*" * 5_000, "s3:" + "?*" * 2_000 + "x"])
def test_compare_refuses_an_action_pattern_over_the_limit(tmp_path: Path, action: str) -> None:
    granted = hostile_policy(tmp_path, action)
    result = run_cli("compare", "--observed", str(observed(tmp_path)), "--policy-file", str(granted), timeout=50)
    assert_one_error_line(result, 2, "granted.json", "longer than 256")
