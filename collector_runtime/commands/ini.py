"""`csm-collector set-ini` / `unset-ini`: switch CSM on and off in the AWS shared config file."""

from __future__ import annotations

from typing import TextIO

from ..settings import IniOptions
from . import aws_config_file


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
