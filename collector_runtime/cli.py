"""Command line entry point: parses, builds settings, delegates. Exit status 0 ok, 1 failure, 2 bad usage."""

from __future__ import annotations

import argparse
import logging
import os
import sys
from collections.abc import Callable, Mapping, Sequence
from typing import TextIO

from .aws import AwsUnavailable
from .commands.attach import cmd_attach, cmd_detach
from .commands.compare import cmd_compare
from .commands.listen import cmd_listen
from .commands.offline import cmd_explain, cmd_ini, cmd_replay, cmd_report
from .demo import DemoUnavailable, run_demo
from .logs import configure_logging
from .parser import parse
from .settings import ConfigError, settings_from

log = logging.getLogger("csm_collector")


COMMANDS: dict[str, Callable[[argparse.Namespace, Mapping[str, str], TextIO], int]] = {
    "listen": lambda a, e, o: cmd_listen(settings_from(a), o),
    "replay": lambda a, e, o: cmd_replay(settings_from(a), a.files, o),
    "report": lambda a, e, o: cmd_report(a, settings_from(a), o),
    "compare": lambda a, e, o: cmd_compare(a, o),
    "attach": lambda a, e, o: cmd_attach(a, o),
    "detach": lambda a, e, o: cmd_detach(a, o),
    "demo": lambda a, e, o: run_demo(settings_from(a), o),
    "explain": lambda a, e, o: cmd_explain(a, o),
    "set-ini": cmd_ini,
    "unset-ini": cmd_ini,
}


def main(argv: Sequence[str] | None = None, environ: Mapping[str, str] | None = None, out: TextIO | None = None) -> int:
    environ = os.environ if environ is None else environ
    out = sys.stdout if out is None else out
    configure_logging(environ.get("CSM_COLLECTOR_LOG_FORMAT", "text"))
    try:
        args = parse(sys.argv[1:] if argv is None else argv, environ)
        configure_logging(getattr(args, "log_format", "text"))
        return COMMANDS[args.command](args, environ, out)
    except ConfigError as error:
        log.error("%s", error)
        return 2
    except (DemoUnavailable, AwsUnavailable) as error:
        log.error("%s", error)
        return 1
    except ValueError as error:  # a setting that passed parsing but cannot be used (e.g. the SSM prefix)
        log.error("%s", error)
        return 2
