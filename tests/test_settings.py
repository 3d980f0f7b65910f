"""Settings: defaults < CSM_COLLECTOR_* environment < flags, into each command's frozen options."""

from __future__ import annotations

import ipaddress
from pathlib import Path

import pytest

from collector_runtime.commands.startup import started_collector
from collector_runtime.settings import (
    CompareOptions,
    ConfigError,
    IniOptions,
    ListenOptions,
    ReplayOptions,
    ReportOptions,
    StartupError,
    parse_options,
)


def listen(argv: list[str], env: dict[str, str] | None = None) -> ListenOptions:
    options = parse_options(["listen", *argv], env or {})
    assert isinstance(options, ListenOptions)
    return options


def test_defaults(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    options = listen([])
    assert (options.host, options.port, options.output.output_dir, options.flush_interval) == (
        "127.0.0.1",
        31000,
        Path("csm-output"),
        10.0,
    )
    assert options.output.policy.sort_alphabetical and not options.output.policy.include_dependent
    assert not options.output.policy.fails_only and not options.output.policy.force_wildcard_resource
    assert options == ListenOptions()  # the grammar's defaults are the options' (the host name comes at start-up)


def test_environment_then_flags(tmp_path: Path) -> None:
    env = {"CSM_COLLECTOR_PORT": "31005", "CSM_COLLECTOR_FAILS_ONLY": "true", "CSM_COLLECTOR_HOST": "0.0.0.0"}
    options = listen(["--port", "31009", "--no-sort-alphabetical", "--output-dir", str(tmp_path)], env)
    assert (options.host, options.port) == ("0.0.0.0", 31009)
    assert options.output.policy.fails_only and not options.output.policy.sort_alphabetical


def test_boolean_environment_can_switch_off_a_default_on_option(tmp_path: Path) -> None:
    options = parse_options(
        ["replay", "x.jsonl", "--output-dir", str(tmp_path)], {"CSM_COLLECTOR_DEPENDENT_ACTIONS": "no"}
    )
    assert isinstance(options, ReplayOptions) and not options.output.policy.include_dependent


def test_values_are_validated_and_normalised_once(tmp_path: Path) -> None:
    options = listen(
        [
            "--output-dir",
            str(tmp_path),
            "--s3-prefix",
            "/a/b",
            "--ssm-prefix",
            "team/csm/",
            "--allow-from",
            "10.0.0.0/16,192.168.1.5",
        ]
    )
    assert (options.s3_prefix, options.ssm_prefix) == ("a/b/", "/team/csm")
    assert options.allow_from == (ipaddress.ip_network("10.0.0.0/16"), ipaddress.ip_network("192.168.1.5/32"))
    assert options.collector_id is None  # the host name, looked up when the collector starts
    started = started_collector(options).collector_id
    assert started and "/" not in started
    assert listen(["--output-dir", str(tmp_path), "--collector-id", "a b/c"]).collector_id == "a_b_c"


def test_repeatable_flags_from_the_environment(tmp_path: Path) -> None:
    options = parse_options(["report", "--output-dir", str(tmp_path)], {"CSM_COLLECTOR_ARCHIVE_DIR": "/data/a"})
    assert isinstance(options, ReportOptions) and options.archive_dirs == (Path("/data/a"),)
    options = parse_options(
        ["compare", "--observed", "o.json", "--policy-file", "g.json"], {"CSM_COLLECTOR_FAIL_ON": "missing"}
    )
    assert isinstance(options, CompareOptions) and options.fail_on == ("missing",)


def test_the_aws_config_file_comes_from_the_environment(tmp_path: Path) -> None:
    options = parse_options(["set-ini", "--csm-port", "31001"], {"AWS_CONFIG_FILE": str(tmp_path / "config")})
    assert options == IniOptions(enable=True, csm_port=31001, config_file=tmp_path / "config")


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CSM_COLLECTOR_PORT": "99999"}, "CSM_COLLECTOR_PORT"),
        ({"CSM_COLLECTOR_QUIET": "maybe"}, "true or false"),
        ({"CSM_COLLECTOR_LOG_FORMAT": "yaml"}, "expected one of text, json"),
        ({"CSM_COLLECTOR_PROT": "31001"}, "unknown setting CSM_COLLECTOR_PROT"),
        ({"CSM_COLLECTOR_ALLOW_FROM": "10.0.0.0/33"}, "not an IP network"),
        ({"CSM_COLLECTOR_SSM_PREFIX": "/aws/x"}, "SSM prefix"),
    ],
)
def test_bad_environment_values_are_named(env: dict[str, str], message: str, tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=message):
        listen(["--output-dir", str(tmp_path)], env)


def test_a_variable_of_another_command_is_no_error(tmp_path: Path) -> None:
    options = parse_options(
        ["replay", "x", "--output-dir", str(tmp_path)], {"CSM_COLLECTOR_PORT": "1", "CSM_COLLECTOR_SAVED_ENV": "{}"}
    )
    assert isinstance(options, ReplayOptions)


@pytest.mark.parametrize(
    "argv",
    [
        ["listen", "--port", "70000"],
        ["listen", "--flush-interval", "0"],
        ["listen", "--host", "not-an-ip"],
        ["replay"],
        ["bogus"],
    ],
)
def test_bad_flags_are_usage_errors_of_one_line(argv: list[str]) -> None:
    with pytest.raises(ConfigError, match=r"^csm-collector.*\(see csm-collector.* --help\)$") as raised:
        parse_options(argv, {})
    assert "\n" not in str(raised.value)


def test_an_output_directory_that_cannot_be_created_stops_the_start(tmp_path: Path) -> None:
    (tmp_path / "file").write_text("")
    options = listen(["--output-dir", str(tmp_path / "file" / "out")])  # reading the settings checks nothing
    with pytest.raises(StartupError, match="cannot create the output directory"):
        started_collector(options)


@pytest.mark.parametrize(
    "argv",
    [
        ["listen", "--archive", "--archive-dir", "{tmp}/archive"],
        ["proxy", "--archive", "--archive-dir", "{tmp}/archive"],
        ["replay", "x.jsonl"],
        ["report"],
        ["demo"],
    ],
)
def test_building_options_touches_no_file_system(argv: list[str], tmp_path: Path) -> None:
    """The output and archive directories are created when the command starts, not when its options are
    read (a --help, a test or another tool reading the options leaves the machine as it was)."""
    missing = tmp_path / "missing"
    argv = [word.replace("{tmp}", str(missing)) for word in argv]
    parse_options([*argv, "--output-dir", str(missing / "out")], {})
    assert not missing.exists()


def test_the_cdk_apps_collector_environment_is_valid_listen_settings(tmp_path: Path) -> None:
    """What both deployed collectors are given (stacks/) parses cleanly into the runtime's settings."""
    from stacks.collector_boot import listen_command
    from stacks.publishing import publishing_environment

    env = publishing_environment(
        bucket_name="results", s3_prefix="collector/", ssm_prefix="/csm-collector", region="eu-west-1"
    )
    env["CSM_COLLECTOR_PORT"] = "31001"  # the Fargate task's
    argv = listen_command(31001, 4318).split(" -m collector_runtime ", 1)[1].split()
    argv[argv.index("--output-dir") + 1] = str(tmp_path)
    options = parse_options(argv, env)
    assert isinstance(options, ListenOptions)
    assert (options.s3_bucket, options.s3_prefix, options.ssm_prefix, options.region) == (
        "results",
        "collector/",
        "/csm-collector",
        "eu-west-1",
    )
    assert options.archive and options.port == 31001 and options.host == "0.0.0.0" and options.quiet
    assert (options.otlp.port, options.otlp.host) == (4318, "0.0.0.0")


def test_the_otlp_receiver_is_off_unless_given_a_port(tmp_path: Path) -> None:
    from collector_runtime.contract import DEFAULT_OTLP_PORT
    from collector_runtime.settings import OtlpOptions

    assert listen(["--output-dir", str(tmp_path)]).otlp == OtlpOptions() and not OtlpOptions().enabled
    env = {"CSM_COLLECTOR_OTLP_PORT": str(DEFAULT_OTLP_PORT), "CSM_COLLECTOR_OTLP_WORKLOAD_ATTRIBUTE": "team.name"}
    options = listen(["--otlp-host", "0.0.0.0", "--otlp-max-request-bytes", "1024", "--output-dir", str(tmp_path)], env)
    assert options.otlp == OtlpOptions(
        port=4318, host="0.0.0.0", workload_attribute="team.name", max_request_bytes=1024
    )
    with pytest.raises(ConfigError, match="otlp-workload-attribute"):
        listen(["--otlp-workload-attribute", "no spaces", "--output-dir", str(tmp_path)])
    with pytest.raises(ConfigError, match="--otlp-host"):
        listen(["--otlp-host", "example.com"])


def test_exact_names_is_a_policy_flag_of_every_policy_command(tmp_path: Path) -> None:
    assert not listen(["--output-dir", str(tmp_path)]).output.policy.exact_names
    assert listen(["--exact-names", "--output-dir", str(tmp_path)]).output.policy.exact_names
    assert listen(["--output-dir", str(tmp_path)], {"CSM_COLLECTOR_EXACT_NAMES": "true"}).output.policy.exact_names
    replay = parse_options(["replay", "--exact-names", "--output-dir", str(tmp_path), "x.jsonl"], {})
    assert isinstance(replay, ReplayOptions) and replay.output.policy.exact_names


def test_report_from_an_output_directory_needs_an_html_file(tmp_path: Path) -> None:
    """A combination of flags is checked where the flags are, when the options are built (not by the runner)."""
    with pytest.raises(ConfigError, match=r"--from-output DIR needs --html FILE"):
        parse_options(["report", "--from-output", str(tmp_path)], {})
    options = parse_options(["report", "--from-output", str(tmp_path), "--html", str(tmp_path / "r.html")], {})
    assert isinstance(options, ReportOptions) and options.from_output == tmp_path
