"""`csm-collector replay FILE...`: captured CSM datagrams through the same pipeline as `listen`."""

from __future__ import annotations

import logging
import sys
from typing import TextIO

from ..core.aggregate import Aggregator
from ..core.records import REPLAY
from ..data import load_action_map
from ..pipeline import Pipeline
from ..settings import ReplayOptions
from ..settings.options import REPLAY as DEFAULTS
from ..sources.csm import CsmDecoder
from ..sources.replay import replay
from . import explain
from .grammar import Subcommands, add_output_options
from .results import write_results

log = logging.getLogger("csm_collector")


def register(commands: Subcommands) -> None:
    parser = commands.add_parser(
        "replay", help="run captured datagrams (JSON lines, .gz ok, - for stdin) through the pipeline"
    )
    parser.add_argument("files", nargs="+", metavar="FILE")
    parser.add_argument("--quiet", action="store_true", help="no summary")
    add_output_options(parser, DEFAULTS.output)


def run(options: ReplayOptions, out: TextIO) -> int:
    action_map = load_action_map()
    aggregator = Aggregator(action_map, fails_only=options.output.policy.fails_only)
    pipeline = Pipeline(aggregator, csm=CsmDecoder(source=REPLAY))
    count = replay(options.files, pipeline.receive_datagram, sys.stdin.buffer)  # unreadable: ReplayError, exit 2
    counters = pipeline.counters()
    rendered = write_results(aggregator, counters, {"replayed_files": list(options.files)}, options.output)
    if not options.quiet:
        out.write(
            f"replayed {count} datagrams: {counters['calls']} calls from {len(aggregator.workloads)} workloads, "
            f"{counters['calls_unmapped']} unmapped, {counters['events_rejected']} rejected "
            f"-> {options.output.output_dir}/\n"
        )
        for warning in rendered.warnings:
            out.write(f"warning: {warning}\n")
        if options.output.explain:
            explain.explain_output(action_map, options.output.output_dir, None, out)
    return 0

