"""`replay`: captured datagrams (JSON lines) through the pipeline."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field

from ..flags import CommandSpec, flag
from ..groups.output import OutputOptions, output_flags, output_options


@dataclass(frozen=True)
class ReplayOptions:
    files: tuple[str, ...] = ()
    quiet: bool = False
    output: OutputOptions = field(default_factory=OutputOptions)


def replay_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ReplayOptions:
    return ReplayOptions(files=tuple(args.files), quiet=args.quiet, output=output_options(args))


SPEC = CommandSpec(
    name="replay",
    help="run captured datagrams (JSON lines, .gz ok, - for stdin) through the pipeline",
    flags=(
        flag("files", nargs="+", metavar="FILE"),
        flag("--quiet", action="store_true", help="no summary"),
        output_flags(ReplayOptions().output),
    ),
    build=replay_options,
    runner="replay.run",
)
