"""The table of commands: each command's spec (its flags with their defaults and validators, its frozen
options, and the function that runs it) lives in the module of its name here; COMMANDS lists them in the
order `csm-collector --help` shows them."""

from __future__ import annotations

from ..flags import CommandSpec
from . import apply, attach, compare, demo, explain, export, ini, listen, proxy, proxy_env, replay, report

COMMANDS: tuple[CommandSpec, ...] = (
    listen.SPEC,
    proxy.SPEC,
    proxy_env.SPEC,
    replay.SPEC,
    report.SPEC,
    compare.SPEC,
    export.SPEC,
    apply.SPEC,
    attach.ATTACH,
    attach.DETACH,
    demo.SPEC,
    explain.SPEC,
    ini.SET_INI,
    ini.UNSET_INI,
)
