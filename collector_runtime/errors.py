"""The kinds of error a command raises, by exit status; `commands/cli.py` maps them in one place.

Exit status 2 (bad usage or input): `ConfigError` and its `BadInput`. Exit status 1 (failure):
`Failure` and its kinds. A message is one line that says what went wrong and, where it can, what to do.
"""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting that cannot be used (bad usage or input, exit 2); the message says which and why."""


class BadInput(ConfigError):
    """An input (a file, a document, a profile) that cannot be used (exit 2); the message names it."""


class Failure(RuntimeError):
    """The command could not do its work (exit 1); the message says why."""


class StartupError(Failure):
    """The environment does not allow the command to start (exit 1), e.g. an unwritable output directory."""


class NotFound(Failure):
    """Something named (a role, an object, a parameter) does not exist (exit 1); the message names it."""


class CredentialsError(Failure):
    """No usable AWS credentials (exit 1); the message says how to provide them."""


def one_line(error: BaseException) -> str:
    """The error's message on one line (AWS messages sometimes span several)."""
    return " ".join(str(error).split()) or type(error).__name__
