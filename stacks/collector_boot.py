"""What the EC2 collector runs at every boot, as text: install Python 3.11 and the CloudWatch agent, unpack
the collector package, write a hardened systemd unit and start it. Values may be CDK tokens.

It runs at every boot (not only the first) so that a deploy with a new package, which changes the user
data, stops the instance, updates it and starts it again: same instance, same private IP, new code.
"""

from __future__ import annotations

import json
from collections.abc import Mapping

from collector_runtime.contract import DEFAULT_RECEIVE_BUFFER

from .instances import dnf_install_commands

INSTALL_DIR = "/opt/csm-collector"
STATE_DIR = "/var/lib/csm-collector"
LOG_DIR = "/var/log/csm-collector"
LOG_FILE = f"{LOG_DIR}/collector.log"
SERVICE_NAME = "csm-collector"
SERVICE_USER = "csm-collector"
PYTHON = "/usr/bin/python3.11"
UNIT_PATH = f"/etc/systemd/system/{SERVICE_NAME}.service"
LOGROTATE_PATH = f"/etc/logrotate.d/{SERVICE_NAME}"
CLOUDWATCH_AGENT_CONFIG = "/opt/aws/amazon-cloudwatch-agent/etc/csm-collector.json"
CLOUDWATCH_AGENT_CTL = "/opt/aws/amazon-cloudwatch-agent/bin/amazon-cloudwatch-agent-ctl"
STRICT_MODE = "set -euo pipefail"
SYSCTL_PATH = "/etc/sysctl.d/90-csm-collector.conf"
RECEIVE_BUFFER_MAX = DEFAULT_RECEIVE_BUFFER  # the collector's default --receive-buffer
PACKAGES = ("python3.11", "amazon-cloudwatch-agent")
# cloud-init runs user-data scripts once per instance by default; this makes it run them at every boot.
RUN_SCRIPTS_AT_EVERY_BOOT = "#cloud-config\ncloud_final_modules:\n- [scripts-user, always]\n"
HARDENING = (
    "NoNewPrivileges=true",
    "ProtectSystem=strict",
    "ProtectHome=true",
    "PrivateTmp=true",
    "PrivateDevices=true",
    "ProtectKernelTunables=true",
    "ProtectKernelModules=true",
    "ProtectControlGroups=true",
    "RestrictSUIDSGID=true",
    "LockPersonality=true",
    "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
    "CapabilityBoundingSet=",
)


def listen_command(port: int, otlp_port: int | None = None) -> str:
    otlp = f" --otlp-port {otlp_port} --otlp-host 0.0.0.0" if otlp_port is not None else ""
    return f"{PYTHON} -m collector_runtime listen --host 0.0.0.0 --port {port}{otlp} --output-dir {STATE_DIR} --quiet"


def systemd_unit(*, port: int, environment: Mapping[str, str], otlp_port: int | None = None) -> str:
    """The service: a dedicated system user, restarts on failure, read-only system, state in StateDirectory."""
    env_lines = [f'Environment="{name}={value}"' for name, value in environment.items()]
    lines = [
        "[Unit]",
        "Description=csm-collector: AWS SDK Client-Side Monitoring collector",
        "Wants=network-online.target",
        "After=network-online.target",
        "",
        "[Service]",
        "Type=simple",
        f"User={SERVICE_USER}",
        f"Group={SERVICE_USER}",
        f'Environment="PYTHONPATH={INSTALL_DIR}/vendor:{INSTALL_DIR}"',
        'Environment="PYTHONUNBUFFERED=1"',
        *env_lines,
        f"ExecStart={listen_command(port, otlp_port)}",
        "Restart=on-failure",
        "RestartSec=5",
        f"StateDirectory={SERVICE_NAME}",
        f"LogsDirectory={SERVICE_NAME}",
        f"StandardOutput=append:{LOG_FILE}",
        f"StandardError=append:{LOG_FILE}",
        *HARDENING,
        "",
        "[Install]",
        "WantedBy=multi-user.target",
    ]
    return "\n".join(lines) + "\n"


def cloudwatch_agent_config(log_group_name: str) -> str:
    """The CloudWatch agent tails the collector's log file into the stack's log group, one stream per instance."""
    collect = {"file_path": LOG_FILE, "log_group_name": log_group_name, "log_stream_name": "{instance_id}"}
    config = {"agent": {"run_as_user": "root"}, "logs": {"logs_collected": {"files": {"collect_list": [collect]}}}}
    return json.dumps(config, indent=2) + "\n"


def logrotate_config() -> str:
    return f"{LOG_FILE} {{\n  weekly\n  rotate 4\n  compress\n  missingok\n  notifempty\n  copytruncate\n}}\n"


def write_file(path: str, content: str) -> str:
    """A shell command writing `content` verbatim (quoted here-document: no expansion)."""
    return f"cat > {path} <<'CSM_COLLECTOR_EOF'\n{content}CSM_COLLECTOR_EOF"


def boot_commands(
    *, package_zip: str, port: int, environment: Mapping[str, str], log_group_name: str, otlp_port: int | None = None
) -> list[str]:
    """Idempotent: safe at every boot. `package_zip` is where the user data downloaded the asset."""
    staging = f"{INSTALL_DIR}.new"
    return [
        # Let the unprivileged collector have the receive buffer it asks for (bursts without loss).
        write_file(SYSCTL_PATH, f"net.core.rmem_max = {RECEIVE_BUFFER_MAX}\n"),
        f"sysctl -p {SYSCTL_PATH}",
        *dnf_install_commands(PACKAGES),
        f"id -u {SERVICE_USER} >/dev/null 2>&1 || "
        f"useradd --system --no-create-home --home-dir /nonexistent --shell /sbin/nologin {SERVICE_USER}",
        f"rm -rf {staging}",
        f"{PYTHON} -m zipfile -e {package_zip} {staging}",
        f"chmod -R a+rX,go-w {staging}",
        f"rm -rf {INSTALL_DIR}",
        f"mv {staging} {INSTALL_DIR}",
        f"install -d -o {SERVICE_USER} -g {SERVICE_USER} -m 0750 {LOG_DIR}",
        write_file(UNIT_PATH, systemd_unit(port=port, environment=environment, otlp_port=otlp_port)),
        write_file(LOGROTATE_PATH, logrotate_config()),
        write_file(CLOUDWATCH_AGENT_CONFIG, cloudwatch_agent_config(log_group_name)),
        f"{CLOUDWATCH_AGENT_CTL} -a fetch-config -m ec2 -s -c file:{CLOUDWATCH_AGENT_CONFIG}",
        "systemctl daemon-reload",
        f"systemctl enable {SERVICE_NAME}",
        f"systemctl restart {SERVICE_NAME}",
    ]
