"""`set-ini` and `unset-ini`: switch csm_enabled on or off in the AWS config file."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..flags import CommandSpec, flag
from ..values import aws_config_file, client_port, config_value, host_name, profile_name


@dataclass(frozen=True)
class IniOptions:
    enable: bool = True  # set-ini; False: unset-ini
    profile: str = "default"
    csm_host: str | None = None
    csm_port: int | None = None
    csm_client_id: str | None = None
    config_file: Path = Path("~/.aws/config")  # $AWS_CONFIG_FILE when set


def ini_options(args: argparse.Namespace, environ: Mapping[str, str]) -> IniOptions:
    enable = args.command == "set-ini"
    return IniOptions(
        enable=enable,
        profile=args.profile,
        csm_host=args.csm_host if enable else None,
        csm_port=args.csm_port if enable else None,
        csm_client_id=args.csm_client_id if enable else None,
        config_file=aws_config_file(environ),
    )


PROFILE = flag(
    "--profile", type=profile_name, default=IniOptions.profile, help="profile to edit (default: %(default)s)"
)
WHERE = "in the AWS config file ($AWS_CONFIG_FILE or ~/.aws/config)"

SET_INI = CommandSpec(
    name="set-ini",
    help=f"switch on csm_enabled {WHERE}",
    flags=(
        PROFILE,
        flag("--csm-host", type=host_name, help="also set csm_host (an IP address or a DNS name)"),
        flag("--csm-port", type=client_port, help="also set csm_port"),
        flag("--csm-client-id", type=config_value, help="also set csm_client_id"),
    ),
    build=ini_options,
    runner="ini.run",
)

UNSET_INI = CommandSpec(
    name="unset-ini", help=f"switch off csm_enabled {WHERE}", flags=(PROFILE,), build=ini_options, runner="ini.run"
)
