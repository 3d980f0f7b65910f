from __future__ import annotations

import re
from pathlib import Path

import pytest

from collector_runtime.commands import aws_config_file as awsconfig
from collector_runtime.errors import BadInput

ORIGINAL = """# my settings
[default]
region = eu-west-1
s3 =
  csm_enabled = nested-and-not-ours

[profile ci]
region = us-east-1 ; trailing comment
"""


def test_set_in_an_existing_profile_keeps_everything_else() -> None:
    result = awsconfig.set_csm(ORIGINAL, "default", {"csm_enabled": "true"})
    assert result == ORIGINAL.replace("[default]\n", "[default]\ncsm_enabled = true\n")
    assert awsconfig.unset_csm(result, "default") == ORIGINAL


def test_set_replaces_an_existing_value() -> None:
    text = "[profile ci]\ncsm_enabled = false\nregion = x\n"
    assert awsconfig.set_csm(text, "ci", {"csm_enabled": "true", "csm_port": "31001"}) == (
        "[profile ci]\ncsm_port = 31001\ncsm_enabled = true\nregion = x\n"
    )


def test_missing_profile_is_created() -> None:
    result = awsconfig.set_csm(ORIGINAL, "dev", {"csm_enabled": "true"})
    assert result.startswith(ORIGINAL)
    assert result.endswith(f"\n[profile dev]\n{awsconfig.CREATED_MARK}\ncsm_enabled = true\n")


def test_empty_file() -> None:
    assert awsconfig.set_csm("", "default", {"csm_enabled": "true"}) == (
        f"[default]\n{awsconfig.CREATED_MARK}\ncsm_enabled = true\n"
    )


def test_unset_on_a_missing_profile_changes_nothing() -> None:
    assert awsconfig.unset_csm(ORIGINAL, "nope") == ORIGINAL


def test_windows_line_endings_survive() -> None:
    text = "[default]\r\nregion = x\r\n"
    assert (
        awsconfig.set_csm(text, "default", {"csm_enabled": "true"})
        == "[default]\r\ncsm_enabled = true\r\nregion = x\r\n"
    )


def test_rewrite_follows_symlinks_and_keeps_permissions(tmp_path: Path) -> None:
    real = tmp_path / "real-config"
    real.write_text(ORIGINAL)
    real.chmod(0o600)
    link = tmp_path / "config"
    link.symlink_to(real)
    assert awsconfig.rewrite(link, "set", "default", {"csm_enabled": "true"})
    assert link.is_symlink()
    assert "csm_enabled = true" in real.read_text()
    assert real.stat().st_mode & 0o777 == 0o600
    assert not awsconfig.rewrite(link, "set", "default", {"csm_enabled": "true"})


def test_config_path_respects_aws_config_file(tmp_path: Path) -> None:
    from collector_runtime.settings.values import aws_config_file

    assert aws_config_file({"AWS_CONFIG_FILE": str(tmp_path / "c")}) == tmp_path / "c"
    assert aws_config_file({}).name == "config"


ALL = {"csm_enabled": "true", "csm_host": "10.0.0.5", "csm_port": "31001", "csm_client_id": "app"}


def test_unset_removes_every_key_set_wrote() -> None:
    result = awsconfig.set_csm(ORIGINAL, "default", ALL)
    assert "csm_host = 10.0.0.5" in result
    assert awsconfig.unset_csm(result, "default") == ORIGINAL


def test_unset_removes_the_profile_set_created_when_nothing_else_is_in_it() -> None:
    assert awsconfig.unset_csm(awsconfig.set_csm(ORIGINAL, "dev", ALL), "dev") == ORIGINAL
    assert awsconfig.unset_csm(awsconfig.set_csm("", "dev", ALL), "dev") == ""
    kept = awsconfig.set_csm(ORIGINAL, "dev", ALL).replace("csm_enabled = true", "csm_enabled = true\nregion = x")
    assert awsconfig.unset_csm(kept, "dev").endswith(f"[profile dev]\n{awsconfig.CREATED_MARK}\nregion = x\n")
    assert "[profile ci]" in awsconfig.unset_csm(ORIGINAL, "ci")  # not created by set-ini: stays, even if empty


def test_set_twice_and_unset_round_trip(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(ORIGINAL)
    assert awsconfig.rewrite(config, "set", "dev", ALL)
    assert not awsconfig.rewrite(config, "set", "dev", ALL)
    assert awsconfig.rewrite(config, "unset", "dev", {})
    assert config.read_text() == ORIGINAL


@pytest.mark.parametrize(
    ("text", "problem"),
    [
        ("region = us-east-1\n[default]\n", "line 1: a setting before any [section]"),
        ("[default]\nregion = x\n[profile ci\nregion = y\n", "line 3: an unterminated or malformed section header"),
        ("[default]\njust words\n", "line 2: neither a setting"),
    ],
)
def test_a_malformed_file_is_refused_not_appended_to(tmp_path: Path, text: str, problem: str) -> None:
    config = tmp_path / "config"
    config.write_text(text)
    for edit in ("set", "unset"):
        with pytest.raises(BadInput, match=re.escape(problem)):
            awsconfig.rewrite(config, edit, "default", {"csm_enabled": "true"})
    assert config.read_text() == text


def test_valid_files_pass_the_check() -> None:
    assert awsconfig.config_problem(ORIGINAL) is None
    assert awsconfig.config_problem("") is None
    assert awsconfig.config_problem("; comment\n\n[sso-session x]\nsso_region = eu-west-1\n") is None


def test_unset_of_a_profile_that_does_not_exist_says_so(tmp_path: Path) -> None:
    config = tmp_path / "config"
    config.write_text(ORIGINAL)
    with pytest.raises(BadInput, match="no profile 'ghost'"):
        awsconfig.rewrite(config, "unset", "ghost", {})
    with pytest.raises(BadInput, match="no profile 'ghost'"):
        awsconfig.rewrite(tmp_path / "missing", "unset", "ghost", {})
