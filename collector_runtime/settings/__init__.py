"""The one place that reads and validates configuration: defaults < CSM_COLLECTOR_* environment < flags.

Every flag `--some-flag` can also be set with the environment variable `CSM_COLLECTOR_SOME_FLAG`
(booleans: true/false, 1/0, yes/no, on/off); a `CSM_COLLECTOR_*` variable that is no flag of any
command is an error. Each command is declared once, in `commands/<name>.py`: its flags (defaults and
validators), its typed, frozen options and how they are built; flag groups several commands share are in
`groups/`. Building options has no side effects (no directory is created, no host name looked up): the
command checks those when it starts. Nothing else in the package looks at the environment or at argv, and
nothing here imports `collector_runtime.commands`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from .commands import COMMANDS
from .commands.apply import ApplyOptions
from .commands.attach import AttachOptions, DetachOptions
from .commands.compare import CompareOptions
from .commands.demo import DemoOptions
from .commands.explain import ExplainOptions
from .commands.export import ExportOptions
from .commands.ini import IniOptions
from .commands.listen import ListenOptions, OtlpOptions
from .commands.proxy import ProxyOptions
from .commands.proxy_env import ProxyEnvOptions
from .commands.replay import ReplayOptions
from .commands.report import ReportOptions
from .environment import apply_environment
from .errors import ConfigError, StartupError
from .flags import CommandSpec, build_parser
from .groups.alerts import AlertOptions
from .groups.collector import CollectorOptions
from .groups.learned import LearnedInput
from .groups.output import OutputOptions

Options = (
    ListenOptions
    | ProxyOptions
    | ProxyEnvOptions
    | ReplayOptions
    | ReportOptions
    | CompareOptions
    | AttachOptions
    | DetachOptions
    | ExplainOptions
    | IniOptions
    | DemoOptions
    | ExportOptions
    | ApplyOptions
)

__all__ = [
    "COMMANDS",
    "AlertOptions",
    "ApplyOptions",
    "AttachOptions",
    "CollectorOptions",
    "CommandSpec",
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
    "parse_command",
    "parse_options",
]


def parse_command(argv: Sequence[str], environ: Mapping[str, str]) -> tuple[CommandSpec, Options]:
    """The command line and the environment, as the chosen command's spec and options."""
    parser, subparsers = build_parser(COMMANDS)
    apply_environment(subparsers, environ)
    args = parser.parse_args(list(argv))
    spec = next(spec for spec in COMMANDS if spec.name == args.command)
    options: Options = spec.build(args, environ)
    return spec, options


def parse_options(argv: Sequence[str], environ: Mapping[str, str]) -> Options:
    """The command line and the environment, as the chosen command's options."""
    return parse_command(argv, environ)[1]


def log_format(environ: Mapping[str, str]) -> str:
    """The log format to use before the command line is parsed (its errors are logged too)."""
    return "json" if environ.get("CSM_COLLECTOR_LOG_FORMAT", "").strip().lower() == "json" else "text"
