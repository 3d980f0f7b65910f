"""`demo`: no AWS account needed: a boto3 workload against moto, and the policy it needs."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ..flags import CommandSpec, flag
from ..groups.output import OutputOptions


@dataclass(frozen=True)
class DemoOptions:
    output: OutputOptions = field(default_factory=lambda: OutputOptions(output_dir=Path("csm-demo-output")))


DEFAULTS = DemoOptions()


def demo_options(args: argparse.Namespace, environ: Mapping[str, str]) -> DemoOptions:
    return DemoOptions(output=OutputOptions(output_dir=Path(args.output_dir or DEFAULTS.output.output_dir)))


SPEC = CommandSpec(
    name="demo",
    help="no AWS account needed: a boto3 workload against moto, and the policy it needs",
    flags=(
        flag(
            "--output-dir",
            type=Path,
            default=DEFAULTS.output.output_dir,
            help="where results are written (default: %(default)s)",
        ),
    ),
    build=demo_options,
    runner="demo.run",
)
