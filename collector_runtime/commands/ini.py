"""`csm-collector set-ini` / `unset-ini`: switch CSM on and off in the AWS shared config file."""

from __future__ import annotations

from typing import TextIO

from ..settings import IniOptions
from ..settings.values import client_port, config_value, host_name, profile_name
from . import aws_config_file
from .grammar import Subcommands


def register(commands: Subcommands) -> None:
    for name, verb in (("set-ini", "switch on"), ("unset-ini", "switch off")):
        ini = commands.add_parser(
            name, help=f"{verb} csm_enabled in the AWS config file ($AWS_CONFIG_FILE or ~/.aws/config)"
        )
        ini.add_argument(
            "--profile", type=profile_name, default=IniOptions.profile, help="profile to edit (default: %(default)s)"
        )
        if name == "set-ini":
            ini.add_argument("--csm-host", type=host_name, help="also set csm_host (an IP address or a DNS name)")
            ini.add_argument("--csm-port", type=client_port, help="also set csm_port")
            ini.add_argument("--csm-client-id", type=config_value, help="also set csm_client_id")


def run(options: IniOptions, out: TextIO) -> int:
    path = options.config_file
    if options.enable:
        values = {"csm_enabled": "true"}
        optional = {"csm_host": options.csm_host, "csm_port": options.csm_port, "csm_client_id": options.csm_client_id}
        values.update({k: str(v) for k, v in optional.items() if v is not None})
        changed = aws_config_file.rewrite(path, "set", options.profile, values)
    else:
        changed = aws_config_file.rewrite(path, "unset", options.profile, {})
    state = "changed" if changed else "already up to date"
    out.write(f"{path} [{aws_config_file.section_name(options.profile)}]: {state}\n")
    return 0
