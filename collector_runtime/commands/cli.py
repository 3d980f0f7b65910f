"""The command line entry point: parses into options, delegates, and maps every error to its exit status
in one place: 0 ok, 1 failure (`errors.Failure` and its kinds, an AWS error), 2 bad usage or input
(`errors.ConfigError`). An error is one line on stderr, never a traceback; a reader that goes away
(`| head`) ends the command quietly."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from ..aws import AWS_ERRORS, aws_error
from ..errors import ConfigError, Failure, one_line
from ..logs import configure_logging
from ..settings import (
    ApplyOptions,
    AttachOptions,
    CompareOptions,
    DemoOptions,
    DetachOptions,
    ExplainOptions,
    ExportOptions,
    IniOptions,
    ListenOptions,
    ProxyEnvOptions,
    ProxyOptions,
    ReplayOptions,
    ReportOptions,
    log_format,
    parse_options,
)
from . import apply, attach, compare, demo, explain, export, ini, listen, proxy, proxy_env, replay, report

log = logging.getLogger("csm_collector")
COMMAND_ERRORS: tuple[type[Exception], ...] = (ConfigError, Failure, *AWS_ERRORS)

RUNNERS: dict[type[Any], Callable[[Any, TextIO], int]] = {
    ListenOptions: listen.run,
    ProxyOptions: proxy.run,
    ProxyEnvOptions: proxy_env.run,
    ReplayOptions: replay.run,
    ReportOptions: report.run,
    CompareOptions: compare.run,
    AttachOptions: attach.run_attach,
    DetachOptions: attach.run_detach,
    DemoOptions: demo.run,
    ExplainOptions: explain.run,
    IniOptions: ini.run,
    ExportOptions: export.run,
    ApplyOptions: apply.run,
}


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    configure_logging(log_format(environ))
    try:
        status = _run(sys.argv[1:] if argv is None else argv, environ, out)
    except BrokenPipeError:  # the reader went away (`... | head`): it has read all it wanted
        status = 0
    except COMMAND_ERRORS as error:
        status = _report(error)
    return _finish(out, status)


def _run(argv: Sequence[str], environ: Mapping[str, str], out: TextIO) -> int:
    options = parse_options(argv, environ)
    if isinstance(options, ProxyOptions):
        configure_logging(options.collector.log_format)
    elif isinstance(options, ListenOptions):
        configure_logging(options.log_format)
    return RUNNERS[type(options)](options, out)


def _report(error: Exception) -> int:
    """Log the error as one line; its exit status."""
    if not isinstance(error, (ConfigError, Failure)):
        error = aws_error(error, "AWS")
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
