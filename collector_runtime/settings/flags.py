"""How a command's flags are declared: `Flag`s in `Group`s, one `CommandSpec` per command (its flags, how
they become its frozen options, and which function runs it), and the parser built from the table of specs.

A flag's default is the options dataclass's own field default (read from an instance), so each default is
written once; every flag can also be set as CSM_COLLECTOR_<FLAG> (`environment.py`)."""

from __future__ import annotations

import argparse
import typing
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from .. import __version__
from .errors import ConfigError

Container = argparse.ArgumentParser | argparse._ArgumentGroup  # argparse names no public type for a group


@dataclass(frozen=True)
class Flag:
    """One argument: its names (`--port`, or a positional `files`) and argparse's keywords for it."""

    names: tuple[str, ...]
    keywords: Mapping[str, Any] = field(default_factory=dict)

    def add_to(self, container: Container) -> None:
        container.add_argument(*self.names, **self.keywords)


def flag(*names: str, **keywords: Any) -> Flag:
    return Flag(names, keywords)


@dataclass(frozen=True)
class Group:
    """Flags shown together under `title` (None: no heading of their own); `exclusive`: at most one of them
    (`required`: exactly one)."""

    title: str | None
    members: tuple[Flag | Group, ...]
    exclusive: bool = False
    required: bool = False

    def add_to(self, container: Container) -> None:
        target: Container = container
        if self.exclusive:
            target = container.add_mutually_exclusive_group(required=self.required)
        elif self.title is not None:
            target = container.add_argument_group(self.title)
        for member in self.members:
            member.add_to(target)


def group(title: str | None, *members: Flag | Group) -> Group:
    return Group(title, members)


def one_of(*members: Flag, required: bool = True) -> Group:
    return Group(None, members, exclusive=True, required=required)


Builder = Callable[[argparse.Namespace, Mapping[str, str]], Any]


@dataclass(frozen=True)
class CommandSpec:
    """A command: its name and help, its flags, `build` (parsed flags and the environment -> its frozen
    options, validated, without touching the file system), and `runner`, the function in
    `collector_runtime.commands` that runs it, as "module.function" (settings import no command)."""

    name: str
    help: str
    flags: tuple[Flag | Group, ...]
    build: Builder
    runner: str


class Parser(argparse.ArgumentParser):
    """A bad command line is a ConfigError (exit 2, one line naming the command and its --help), not
    argparse's usage block; its subcommand parsers are of this class too."""

    def error(self, message: str) -> typing.NoReturn:
        raise ConfigError(f"{self.prog}: {message} (see {self.prog} --help)")


def build_parser(specs: Iterable[CommandSpec]) -> tuple[argparse.ArgumentParser, list[argparse.ArgumentParser]]:
    """The parser and its subcommand parsers, one per spec."""
    parser = Parser(
        prog="csm-collector",
        description="Collect observed AWS API calls (SDK Client-Side Monitoring) and build least-privilege "
        "IAM policies.",
        epilog="Every flag can also be set as CSM_COLLECTOR_<FLAG> (e.g. CSM_COLLECTOR_PORT=31001).",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for spec in specs:
        subparser = commands.add_parser(spec.name, help=spec.help)
        for member in spec.flags:
            member.add_to(subparser)
    return parser, list(commands.choices.values())
