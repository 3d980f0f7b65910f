from __future__ import annotations

from pathlib import Path

import pytest

from collector_runtime.parser import parse
from collector_runtime.settings import ConfigError, settings_from


def test_defaults() -> None:
    settings = settings_from(parse(["listen"], {}))
    assert (settings.host, settings.port, settings.output_dir, settings.flush_interval) == (
        "127.0.0.1",
        31000,
        Path("csm-output"),
        10.0,
    )
    assert settings.policy.sort_alphabetical and settings.policy.include_dependent
    assert not settings.policy.fails_only and not settings.policy.force_wildcard_resource


def test_environment_then_flags() -> None:
    env = {"CSM_COLLECTOR_PORT": "31005", "CSM_COLLECTOR_FAILS_ONLY": "true", "CSM_COLLECTOR_HOST": "0.0.0.0"}
    settings = settings_from(parse(["listen", "--port", "31009", "--no-sort-alphabetical"], env))
    assert (settings.host, settings.port) == ("0.0.0.0", 31009)
    assert settings.policy.fails_only and not settings.policy.sort_alphabetical


def test_boolean_environment_can_switch_off_a_default_on_option() -> None:
    settings = settings_from(parse(["replay", "x.jsonl"], {"CSM_COLLECTOR_DEPENDENT_ACTIONS": "no"}))
    assert not settings.policy.include_dependent


@pytest.mark.parametrize(
    ("env", "message"),
    [({"CSM_COLLECTOR_PORT": "99999"}, "CSM_COLLECTOR_PORT"), ({"CSM_COLLECTOR_QUIET": "maybe"}, "true or false")],
)
def test_bad_environment_values_are_named(env: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        parse(["listen"], env)


@pytest.mark.parametrize(
    "argv", [["listen", "--port", "70000"], ["listen", "--flush-interval", "0"], ["replay"], ["bogus"]]
)
def test_bad_flags_exit_with_usage_error(argv: list[str]) -> None:
    with pytest.raises(SystemExit) as raised:
        parse(argv, {})
    assert raised.value.code == 2
