"""The alert flags of listen and proxy: defaults < CSM_COLLECTOR_* environment < flags, bad values refused."""

from __future__ import annotations

from pathlib import Path

import pytest

from collector_runtime.settings import AlertOptions, ConfigError, ListenOptions, ProxyOptions, parse_options

ROLE = "arn:aws:iam::123456789012:role/app"
FUNCTION = "arn:aws:lambda:eu-west-1:123456789012:function:orders"


def test_off_by_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    options = parse_options(["listen"], {})
    assert isinstance(options, ListenOptions)
    assert options.alerts == AlertOptions() and not options.alerts.enabled


def test_flags_and_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    env = {"CSM_COLLECTOR_ALERTS_EVENT_BUS": "bus", "CSM_COLLECTOR_ROLE_MAP": f"a={ROLE} b={FUNCTION}"}
    argv = ["--alerts-file", "--alerts-webhook", "https://hooks.example.com/x?token=t", "--learning-period", "3600"]
    options = parse_options(["proxy", *argv, "--role-map", f"c={ROLE}", "--drift-interval", "60"], env)
    assert isinstance(options, ProxyOptions)
    alerts = options.collector.alerts
    assert (alerts.file, alerts.webhook, alerts.event_bus) == (True, "https://hooks.example.com/x?token=t", "bus")
    assert (alerts.learning_period, alerts.drift_interval) == (3600.0, 60.0)
    assert alerts.role_map == (("a", ROLE), ("b", FUNCTION), ("c", ROLE))  # as every repeatable flag: added
    from_env = parse_options(["listen"], env)
    assert isinstance(from_env, ListenOptions)
    assert from_env.alerts.role_map == (("a", ROLE), ("b", FUNCTION))


@pytest.mark.parametrize(
    "argv",
    [
        ["--role-map", "app=arn:aws:s3:::bucket"],
        ["--role-map", f"={ROLE}"],
        ["--alerts-webhook", "file:///etc/passwd"],
        ["--learning-period", "-1"],
        ["--alerts-rate", "0"],
    ],
)
def test_bad_values_are_config_errors(argv: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ConfigError):
        parse_options(["listen", *argv], {})
