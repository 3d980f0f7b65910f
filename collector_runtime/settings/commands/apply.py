"""`apply`: put a workload's learned policy on a role (a dry run unless --execute); --restore undoes it."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..errors import ConfigError
from ..flags import CommandSpec, flag
from ..groups.learned import LearnedInput, learned_flags, learned_input


@dataclass(frozen=True)
class ApplyOptions:
    learned: LearnedInput = field(default_factory=LearnedInput)
    role: str | None = None
    execute: bool = False  # default: a dry run that changes nothing
    detach_replaced: bool = False
    record: Path | None = None  # where the restore record goes (None: csm-apply-<role>-<UTC time>.json)
    restore: Path | None = None  # put the role back as this record says


def apply_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ApplyOptions:
    if args.restore is None and (not args.workload or not args.role):
        raise ConfigError("apply needs --workload and --role (or --restore RECORD)")
    return ApplyOptions(
        learned=learned_input(args),
        role=args.role,
        execute=args.execute,
        detach_replaced=args.detach_replaced,
        record=args.record,
        restore=args.restore,
    )


SPEC = CommandSpec(
    name="apply",
    help="put a workload's learned policy on a role (dry run unless --execute); --restore undoes it",
    flags=(
        learned_flags(workload_help="the workload (ClientId) whose learned policy is applied"),
        flag("--role", help="the IAM role (name) that gets the policy"),
        flag("--execute", action="store_true", help="change the role (default: a dry run, nothing changes)"),
        flag(
            "--detach-replaced",
            action="store_true",
            help="also detach the attached managed policies the learned policy replaces (they grant actions the "
            "workload used, all of which the learned policy grants)",
        ),
        flag(
            "--record",
            type=Path,
            help="where the restore record is written (default: csm-apply-<role>-<UTC time>.json)",
        ),
        flag("--restore", type=Path, metavar="RECORD", help="put the role back as this record says"),
    ),
    build=apply_options,
    runner="apply.run",
)
