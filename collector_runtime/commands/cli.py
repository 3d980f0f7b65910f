"""The command line entry point: parses into options, delegates. Exit status 0 ok, 1 failure, 2 bad usage."""

from __future__ import annotations

import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import Any, TextIO

from ..aws import AwsUnavailable
from ..logs import configure_logging
from ..settings import (
    AttachOptions,
    CompareOptions,
    ConfigError,
    DemoOptions,
    DetachOptions,
    ExplainOptions,
    IniOptions,
    ListenOptions,
    ProxyEnvOptions,
    ProxyOptions,
    ReplayOptions,
    ReportOptions,
    StartupError,
    log_format,
    parse_options,
)
from . import attach, compare, demo, explain, ini, listen, proxy, proxy_env, replay, report

log = logging.getLogger("csm_collector")

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
}


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    configure_logging(log_format(environ))
    try:
        options = parse_options(sys.argv[1:] if argv is None else argv, environ)
        if isinstance(options, ProxyOptions):
            configure_logging(options.collector.log_format)
        elif isinstance(options, ListenOptions):
            configure_logging(options.log_format)
        return RUNNERS[type(options)](options, out)
    except ConfigError as error:
        log.error("%s", error)
        return 2
    except (StartupError, demo.DemoUnavailable, AwsUnavailable) as error:
        log.error("%s", error)
        return 1
