"""CSM_COLLECTOR_<FLAG> environment variables as the defaults of the command line's flags."""

from __future__ import annotations

import argparse
from collections.abc import Iterable, Mapping

from ..contract import NOT_SETTINGS, SETTINGS_PREFIX, setting_variable
from .errors import ConfigError

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def flag_actions(parser: argparse.ArgumentParser) -> list[tuple[str, argparse.Action]]:
    """(environment variable, action) of each flag of `parser`."""
    found = []
    for action in parser._actions:  # argparse offers no public iterator over a parser's options
        long_flags = [flag for flag in action.option_strings if flag.startswith("--")]
        if long_flags and action.dest not in ("help", "version"):
            found.append((setting_variable(long_flags[0]), action))
    return found


def apply_environment(parsers: Iterable[argparse.ArgumentParser], environ: Mapping[str, str]) -> None:
    """Make CSM_COLLECTOR_<FLAG> the default of each flag (flags still win); reject unknown variables."""
    known: set[str] = set(NOT_SETTINGS)
    for parser in parsers:
        for name, action in flag_actions(parser):
            known.add(name)
            raw = environ.get(name)
            if raw is not None:
                action.default = _convert(name, action, raw)
                action.required = False
    unknown = sorted(name for name in environ if name.startswith(SETTINGS_PREFIX) and name not in known)
    if unknown:
        raise ConfigError(
            f"unknown setting {', '.join(unknown)}: no command has such a flag (CSM_COLLECTOR_<FLAG>, e.g. "
            "CSM_COLLECTOR_PORT for --port; see csm-collector COMMAND --help)"
        )


def _convert(name: str, action: argparse.Action, raw: str) -> object:
    if action.nargs == 0 or isinstance(action, argparse.BooleanOptionalAction):
        lowered = raw.strip().lower()
        if lowered not in _TRUE | _FALSE:
            raise ConfigError(f"{name}={raw!r}: expected true or false")
        return lowered in _TRUE
    try:
        value = action.type(raw) if callable(action.type) else raw
    except (TypeError, ValueError, argparse.ArgumentTypeError) as error:
        raise ConfigError(f"{name}={raw!r}: {error}") from error
    if action.choices is not None and value not in action.choices:
        raise ConfigError(f"{name}={raw!r}: expected one of {', '.join(map(str, action.choices))}")
    return [value] if isinstance(action, argparse._AppendAction) else value
