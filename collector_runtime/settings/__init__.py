"""The one place that reads and validates configuration: defaults < CSM_COLLECTOR_* environment < flags.

Every flag `--some-flag` can also be set with the environment variable `CSM_COLLECTOR_SOME_FLAG`
(booleans: true/false, 1/0, yes/no, on/off); a `CSM_COLLECTOR_*` variable that is no flag of any
command is an error. Each command gets a typed, frozen options object (`options.py`, where every
default is written once); nothing else in the package looks at the environment or at argv.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .errors import ConfigError, StartupError
from .options import (
    ApplyOptions,
    AttachOptions,
    CompareOptions,
    DemoOptions,
    DetachOptions,
    ExplainOptions,
    ExportOptions,
    IniOptions,
    LearnedInput,
    ListenOptions,
    Options,
    OtlpOptions,
    OutputOptions,
    ProxyEnvOptions,
    ProxyOptions,
    ReplayOptions,
    ReportOptions,
)

__all__ = [
    "ApplyOptions",
    "AttachOptions",
    "CompareOptions",
    "ConfigError",
    "DemoOptions",
    "DetachOptions",
    "ExplainOptions",
    "ExportOptions",
    "IniOptions",
    "LearnedInput",
    "ListenOptions",
    "Options",
    "OtlpOptions",
    "OutputOptions",
    "ProxyEnvOptions",
    "ProxyOptions",
    "ReplayOptions",
    "ReportOptions",
    "StartupError",
    "log_format",
    "parse_options",
]


def parse_options(argv: Sequence[str], environ: Mapping[str, str]) -> Options:
    """The command line and the environment, as the chosen command's options."""
    from ..commands.grammar import build_parser
    from .build import options_from
    from .environment import apply_environment

    parser, subparsers = build_parser()
    apply_environment(subparsers, environ)
    return options_from(parser.parse_args(list(argv)), environ)


def log_format(environ: Mapping[str, str]) -> str:
    """The log format to use before the command line is parsed (its errors are logged too)."""
    return "json" if environ.get("CSM_COLLECTOR_LOG_FORMAT", "").strip().lower() == "json" else "text"
