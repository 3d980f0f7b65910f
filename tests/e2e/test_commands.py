"""`replay` and `demo` as users run them, through the CLI entry point."""

from __future__ import annotations

import gzip
import io
import json
import subprocess
import sys
from pathlib import Path

import pytest

from collector_runtime.commands.aws_config_file import CREATED_MARK
from collector_runtime.commands.cli import main
from tests.conftest import SAMPLES, assert_no_secrets, read_all_outputs
from tests.helpers import read_json


def run(argv: list[str], env: dict[str, str] | None = None) -> tuple[int, str]:
    out = io.StringIO()
    code = main(argv, env or {}, out)
    return code, out.getvalue()


def test_replay_of_real_captures(tmp_path: Path) -> None:
    samples = sorted(str(p) for p in SAMPLES.glob("*.jsonl"))
    code, text = run(["replay", *samples, "--output-dir", str(tmp_path)])
    assert code == 0 and "replayed 32 datagrams" in text
    cli_v1 = read_json(tmp_path / "policies" / "awscli-v1.json")
    assert {a for s in cli_v1["Statement"] for a in s["Action"]} == {
        "s3:ListAllMyBuckets",
        "s3:ListBucket",
        "s3:GetObject",
        "logs:DescribeLogGroups",
    }
    assert read_json(tmp_path / "stats.json")["calls_unmapped"] == 0
    assert_no_secrets(read_all_outputs(tmp_path))


def test_replay_reads_stdin_and_gzip(tmp_path: Path) -> None:
    sample = (SAMPLES / "awscli-v2.jsonl").read_bytes()
    compressed = tmp_path / "capture.jsonl.gz"
    compressed.write_bytes(gzip.compress(sample))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "collector_runtime",
            "replay",
            "-",
            str(compressed),
            "--output-dir",
            str(tmp_path / "out"),
        ],
        input=sample,
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    stats = read_json(tmp_path / "out" / "stats.json")
    assert stats["csm"]["datagrams_received"] == 12
    assert stats["workloads"]["awscli-v2-debian"]["calls"] == 6


def test_replay_and_listen_produce_the_same_files_for_the_same_datagrams(tmp_path: Path) -> None:
    from tests.helpers import running_collector, send, wait_for

    lines = [line for p in sorted(SAMPLES.glob("*.jsonl")) for line in p.read_bytes().splitlines()]
    with running_collector(tmp_path / "live", flush_interval=3600) as service:
        send(service.sources["csm"].address[1], *lines)
        assert wait_for(lambda: service.sources["csm"].decoder.counters.datagrams_received == len(lines))
    capture = tmp_path / "capture.jsonl"
    capture.write_bytes(b"\n".join(lines) + b"\n")
    assert run(["replay", str(capture), "--output-dir", str(tmp_path / "replayed")])[0] == 0
    for name in ["policy.json", *(f"policies/{p.name}" for p in (tmp_path / "live" / "policies").iterdir())]:
        assert (tmp_path / "live" / name).read_text() == (tmp_path / "replayed" / name).read_text(), name


def test_replay_explain_lists_each_call(tmp_path: Path) -> None:
    code, text = run(["replay", str(SAMPLES / "awscli-v1.jsonl"), "--output-dir", str(tmp_path), "--explain"])
    assert code == 0
    assert "S3.ListBuckets" in text and "s3:ListAllMyBuckets" in text and "[api-doc-link]" in text
    assert "no IAM permission needed" in text  # STS GetCallerIdentity


def test_replay_of_a_missing_file_is_a_clear_error(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    code, _ = run(["replay", str(tmp_path / "nope.jsonl"), "--output-dir", str(tmp_path)])
    assert code == 2
    assert "nope.jsonl" in caplog.text and "No such file" in caplog.text


def test_explain_commands(tmp_path: Path) -> None:
    code, text = run(["explain", "S3", "HeadObject"])
    assert code == 0 and json.loads(text)["actions"] == ["s3:GetObject"]
    code, text = run(["explain", "S3", "Teleport"])
    assert code == 1 and json.loads(text)["source"] == "unmapped"
    assert run(["explain"])[0] == 2
    assert run(["explain", "--output-dir", str(tmp_path)])[0] == 2


@pytest.mark.slow
def test_demo_prints_the_learned_policy(tmp_path: Path) -> None:
    code, text = run(["demo", "--output-dir", str(tmp_path)])
    assert code == 0, text
    policy_text = text[text.index("{") : text.rindex("}") + 1]
    policy = json.loads(policy_text)
    granted = {a for s in policy["Statement"] for a in s["Action"]}
    assert {"s3:PutObject", "s3:GetObject", "dynamodb:PutItem", "sqs:SendMessage", "ssm:GetParameter"} <= granted
    assert "sts:GetCallerIdentity" not in granted
    assert_no_secrets(read_all_outputs(tmp_path) + text)
    assert "testing-session-token" not in read_all_outputs(tmp_path)


def test_set_ini_and_unset_ini(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text("[default]\nregion = eu-west-1\n")
    env = {"AWS_CONFIG_FILE": str(config)}
    assert run(["set-ini", "--csm-port", "31001"], env)[0] == 0
    assert config.read_text() == "[default]\ncsm_enabled = true\ncsm_port = 31001\nregion = eu-west-1\n"
    assert run(["unset-ini"], env)[0] == 0
    assert config.read_text() == "[default]\nregion = eu-west-1\n"  # every key set-ini wrote is gone
    assert run(["set-ini", "--profile", "ci"], env)[0] == 0
    assert config.read_text().endswith("[profile ci]\n" + CREATED_MARK + "\ncsm_enabled = true\n")
    assert run(["unset-ini", "--profile", "ci"], env)[0] == 0
    assert config.read_text() == "[default]\nregion = eu-west-1\n"  # and the profile it created
