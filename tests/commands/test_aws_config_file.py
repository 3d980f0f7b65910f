from __future__ import annotations

from pathlib import Path

from collector_runtime.commands import aws_config_file as awsconfig

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
    assert result.endswith("\n[profile dev]\ncsm_enabled = true\n")


def test_empty_file() -> None:
    assert awsconfig.set_csm("", "default", {"csm_enabled": "true"}) == "[default]\ncsm_enabled = true\n"


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
