"""The command line entry point: parses into options, delegates, and maps every error to its exit status
in one place: 0 ok, 1 failure (`errors.Failure` and its kinds, an AWS error, a missing optional
dependency), 2 bad usage or input (`errors.ConfigError`), 130 interrupted (Ctrl-C). An error is one line
on stderr, never a traceback; a reader that goes away (`| head`) ends the command quietly.

This module imports little: the commands, the settings and their dependencies are imported inside `main`,
so that a Ctrl-C while they load is an interruption like any other (exit 130, one line)."""

from __future__ import annotations

import importlib
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from ..errors import ConfigError, Failure, one_line
from ..logs import configure_logging
from .extras import missing_extra
from .interrupts import interrupts_deferred

log = logging.getLogger("csm_collector")
INTERRUPTED = 130  # 128 + SIGINT, as shells report a command that Ctrl-C ended


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    argv = sys.argv[1:] if argv is None else argv
    try:
        configure_logging()  # text until the environment is read: an error or Ctrl-C while loading is logged too
        status = _run(argv, environ, out)
    except KeyboardInterrupt:
        status = _interrupted()
    except BrokenPipeError:  # the reader went away (`... | head`): it has read all it wanted
        status = 0
    except Exception as error:
        if _caused_by_interrupt(error):
            status = _interrupted()
        else:
            known = _command_error(error, _command_name(argv))
            if known is None:
                raise  # a bug: its traceback is what a report needs
            status = _report(known)
    return _finish(out, status)


def _interrupted() -> int:
    log.error("interrupted")
    return INTERRUPTED


def _caused_by_interrupt(error: BaseException) -> bool:
    """A Ctrl-C that Python wrapped in another error (e.g. RuntimeError from a class being created)."""
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, KeyboardInterrupt):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _run(argv: Sequence[str], environ: Mapping[str, str], out: TextIO) -> int:
    with interrupts_deferred():  # the package loads (see interrupts.py)
        from ..settings import CollectorOptions, ProxyOptions, log_format, parse_command

        configure_logging(log_format(environ))
        spec, options = parse_command(argv, environ)
        runner = _runner(spec.runner)
    if isinstance(options, ProxyOptions):
        configure_logging(options.collector.log_format)
    elif isinstance(options, CollectorOptions):
        configure_logging(options.log_format)
    return runner(options, out)


def _runner(name: str) -> Callable[[Any, TextIO], int]:
    """A command's runner, named "module.function" in its spec (the settings import no command)."""
    module, function = name.split(".")
    runner: Callable[[Any, TextIO], int] = getattr(importlib.import_module(f"{__package__}.{module}"), function)
    return runner


def _command_error(error: Exception, command: str) -> ConfigError | Failure | None:
    """`error` as the command error it stands for; None for an error no command raises on purpose (a bug)."""
    if isinstance(error, (ConfigError, Failure)):
        return error
    if isinstance(error, ImportError):
        return missing_extra(error, command)
    from ..aws import AWS_ERRORS, aws_error

    return aws_error(error, "AWS") if isinstance(error, AWS_ERRORS) else None


def _command_name(argv: Sequence[str]) -> str:
    return next((word for word in argv if not word.startswith("-")), "csm-collector")


def _report(error: ConfigError | Failure) -> int:
    """Log the error as one line; its exit status."""
    log.error("%s", one_line(error))
    return 2 if isinstance(error, ConfigError) else 1


def _finish(out: TextIO, status: int) -> int:
    """Flush standard output here, so that a reader gone away is noticed here, not at interpreter exit."""
    try:
        out.flush()
    except BrokenPipeError:
        _discard_output(out)
    return status


def _discard_output(out: TextIO) -> None:
    """The reader of standard output went away (`... | head`): what is still buffered goes nowhere, and
    Python's own flush at exit finds nothing to complain about (the standard recipe, see the signal docs)."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, out.fileno())
    except (OSError, ValueError, AttributeError):  # not a real file (a test's StringIO)
        pass
