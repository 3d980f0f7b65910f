"""A region no region could have (`*`) never reaches a policy: a real `listen` refuses the call, and a state.json
an older collector saved with such a scope loses it, and the policy file it granted, on restart."""

from __future__ import annotations

import json
import signal
import subprocess
from pathlib import Path

import pytest

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.pipeline import Pipeline
from tests.conftest import attempt, call, datagram
from tests.helpers import read_json, send, start_listen

pytestmark = pytest.mark.timeout(120)


def _stopped(process: subprocess.Popen[str]) -> str:
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return stderr


def _resources(policy: Path) -> list[str]:
    return [arn for statement in json.loads(policy.read_text())["Statement"] for arn in statement["Resource"]]


def test_a_real_listen_refuses_a_call_in_region_star(tmp_path: Path) -> None:
    process, port = start_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    for region in ("*", "eu-west-1"):
        send(port, datagram(attempt("SSM", "GetParameter", Region=region), call("SSM", "GetParameter", Region=region)))
    _stopped(process)  # a stop reads the datagrams queued first
    assert _resources(tmp_path / "policies" / "app.json") == ["arn:aws:ssm:eu-west-1:*:parameter/*"]
    assert read_json(tmp_path / "stats.json")["csm"]["rejected_reasons"] == {"invalid_region": 1}


def _saved_before_the_check() -> dict[str, object]:
    """What a collector before the region check saved: `old` called only in region `*`, `app` in both."""
    fields = ["service", "api", "calls", "failed", "denied", "first_seen_ms", "last_seen_ms", "scopes", "members"]
    star, ireland = ["*", None, []], ["eu-west-1", None, []]
    return {
        "format": 3,
        "call_fields": fields,
        "stats": {"calls": 3},
        "workloads": {
            "old": {"calls": [["SSM", "GetParameter", 1, 0, 0, 1, 1, [star], []]]},
            "app": {"calls": [["SSM", "GetParameter", 2, 0, 0, 1, 2, [star, ireland], []]]},
        },
    }


def test_a_scope_an_older_collector_saved_in_region_star_is_left_out_on_restart(tmp_path: Path) -> None:
    (tmp_path / "state.json").write_text(json.dumps(_saved_before_the_check()))
    (tmp_path / "policies").mkdir()
    granted = {"Effect": "Allow", "Action": ["ssm:GetParameter"], "Resource": ["arn:aws:ssm:*:*:parameter/*"]}
    for name in ("old", "app"):
        policy = {"Version": "2012-10-17", "Statement": [granted]}
        (tmp_path / "policies" / f"{name}.json").write_text(json.dumps(policy))
    process, _ = start_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    _stopped(process)
    assert not (tmp_path / "policies" / "old.json").exists()
    assert _resources(tmp_path / "policies" / "app.json") == ["arn:aws:ssm:eu-west-1:*:parameter/*"]
    assert "ssm:*:*" not in (tmp_path / "policy.json").read_text()
    workloads = read_json(tmp_path / "state.json")["workloads"]
    assert workloads["old"]["calls"] == [] and [row[-2] for row in workloads["app"]["calls"]] == [
        [["eu-west-1", None, []]]
    ]


def test_what_a_restore_left_out_is_logged(action_map: ActionMap, caplog: pytest.LogCaptureFixture) -> None:
    Pipeline(Aggregator(action_map)).restore(_saved_before_the_check())
    [message] = [record.getMessage() for record in caplog.records if "left out" in record.getMessage()]
    assert "left out 2 saved scopes whose region no region could have (such as *) and 1 calls left" in message
