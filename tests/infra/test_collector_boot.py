"""The EC2 collector's boot script and systemd unit, as rendered text (no synth needed)."""

from __future__ import annotations

import configparser
import json

from stacks import collector_boot
from stacks.collector_boot import boot_commands, cloudwatch_agent_config, systemd_unit
from stacks.publishing import publishing_environment

ENVIRONMENT = publishing_environment(
    bucket_name="results-bucket", s3_prefix="collector/", ssm_prefix="/csm-collector", region="eu-west-1"
)


def parsed_unit(port: int = 31000) -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None, empty_lines_in_values=False)
    parser.optionxform = str  # type: ignore[assignment,method-assign]
    parser.read_string(systemd_unit(port=port, environment=ENVIRONMENT))
    return parser


def unit_lines(port: int = 31000) -> list[str]:
    return systemd_unit(port=port, environment=ENVIRONMENT).splitlines()


def test_the_service_runs_the_collector_on_all_interfaces_with_python_311() -> None:
    service = parsed_unit(31005)["Service"]
    assert service["ExecStart"] == (
        "/usr/bin/python3.11 -m collector_runtime listen --host 0.0.0.0 --port 31005 "
        "--output-dir /var/lib/csm-collector --quiet"
    )
    assert service["Restart"] == "on-failure"
    assert parsed_unit()["Install"]["WantedBy"] == "multi-user.target"


def test_the_service_runs_as_a_dedicated_user_with_its_own_state_directory() -> None:
    service = parsed_unit()["Service"]
    assert (service["User"], service["Group"]) == ("csm-collector", "csm-collector")
    assert service["StateDirectory"] == "csm-collector"


def test_the_service_is_hardened() -> None:
    lines = unit_lines()
    for setting in ("NoNewPrivileges=true", "ProtectSystem=strict", "ProtectHome=true", "PrivateTmp=true"):
        assert setting in lines


def test_the_vendored_dependencies_and_the_package_are_on_the_python_path() -> None:
    assert 'Environment="PYTHONPATH=/opt/csm-collector/vendor:/opt/csm-collector"' in unit_lines()


def test_the_publishing_settings_reach_the_collector_through_its_environment() -> None:
    lines = unit_lines()
    assert 'Environment="CSM_COLLECTOR_S3_BUCKET=results-bucket"' in lines
    assert 'Environment="CSM_COLLECTOR_S3_PREFIX=collector/"' in lines
    assert 'Environment="CSM_COLLECTOR_SSM_PREFIX=/csm-collector"' in lines
    assert 'Environment="CSM_COLLECTOR_ARCHIVE=true"' in lines


def test_output_goes_to_the_log_file_the_cloudwatch_agent_ships() -> None:
    service = parsed_unit()["Service"]
    assert service["StandardOutput"] == f"append:{collector_boot.LOG_FILE}"
    config = json.loads(cloudwatch_agent_config("the-log-group"))
    (collected,) = config["logs"]["logs_collected"]["files"]["collect_list"]
    assert collected == {
        "file_path": collector_boot.LOG_FILE,
        "log_group_name": "the-log-group",
        "log_stream_name": "{instance_id}",
    }


def test_the_boot_script_installs_unpacks_writes_the_unit_and_restarts() -> None:
    commands = boot_commands(package_zip="/tmp/package.zip", port=31000, environment=ENVIRONMENT, log_group_name="lg")
    script = "\n".join(commands)
    assert "do dnf install -y python3.11 amazon-cloudwatch-agent && break;" in commands[2]
    assert commands[3] == "rpm -q python3.11 amazon-cloudwatch-agent"
    assert "useradd --system" in script
    assert "/usr/bin/python3.11 -m zipfile -e /tmp/package.zip /opt/csm-collector.new" in script
    assert "cat > /etc/systemd/system/csm-collector.service <<'CSM_COLLECTOR_EOF'" in script
    assert commands[-3:] == [
        "systemctl daemon-reload",
        "systemctl enable csm-collector",
        "systemctl restart csm-collector",
    ]


def test_the_receive_buffer_limit_is_raised_for_the_unprivileged_collector() -> None:
    commands = boot_commands(package_zip="/tmp/p.zip", port=31000, environment=ENVIRONMENT, log_group_name="lg")
    assert "net.core.rmem_max = 33554432" in commands[0]
    assert commands[1] == "sysctl -p /etc/sysctl.d/90-csm-collector.conf"


def test_the_publishing_settings_reach_the_collector_with_its_region() -> None:
    lines = unit_lines()
    assert 'Environment="CSM_COLLECTOR_REGION=eu-west-1"' in lines
    assert 'Environment="CSM_COLLECTOR_S3_BUCKET=results-bucket"' in lines


def test_the_boot_script_is_safe_to_run_at_every_boot() -> None:
    script = "\n".join(
        boot_commands(package_zip="/tmp/p.zip", port=31000, environment=ENVIRONMENT, log_group_name="lg")
    )
    assert "id -u csm-collector >/dev/null 2>&1 || useradd" in script
    assert "rm -rf /opt/csm-collector.new" in script
    assert "cloud_final_modules:\n- [scripts-user, always]" in collector_boot.RUN_SCRIPTS_AT_EVERY_BOOT
