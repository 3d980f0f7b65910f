"""`export`: a learned policy as code (JSON, CDK Python/TypeScript, CloudFormation, Terraform)."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...core.export import FORMATS
from ..flags import CommandSpec, flag
from ..groups.learned import LearnedInput, learned_flags, learned_input


@dataclass(frozen=True)
class ExportOptions:
    learned: LearnedInput = field(default_factory=LearnedInput)
    format: str = "json"
    out: Path | None = None  # a file (one workload) or a directory; None: standard output


def export_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ExportOptions:
    return ExportOptions(learned=learned_input(args), format=args.format, out=args.out)


SPEC = CommandSpec(
    name="export",
    help="a learned policy as code: JSON, CDK (Python, TypeScript), CloudFormation, Terraform",
    flags=(
        learned_flags(workload_help="the workload (ClientId) to export (default: every workload)"),
        flag("--format", choices=tuple(FORMATS), default=ExportOptions.format, help="(default: %(default)s)"),
        flag(
            "--out",
            type=Path,
            help="a directory (one file per workload), or a file with --workload; default: standard output",
        ),
    ),
    build=export_options,
    runner="export.run",
)
