"""`csm-collector replay FILE...`: captured CSM datagrams through the same pipeline as `listen`."""

from __future__ import annotations

import logging
import sys
from typing import Any, TextIO

from ..core.aggregate import Aggregator
from ..core.records import REPLAY
from ..data import load_action_map
from ..errors import BadInput
from ..pipeline import Pipeline, offline_intake
from ..settings import ReplayOptions
from ..sources.csm.decoder import CsmDecoder
from ..sources.csm.replay import replay
from ..sources.csm.source import CsmSource
from . import explain
from .results import write_results
from .startup import writable_directory

log = logging.getLogger("csm_collector")


def run(options: ReplayOptions, out: TextIO) -> int:
    writable_directory(options.output.output_dir)
    action_map = load_action_map()
    aggregator = Aggregator(action_map, fails_only=options.output.policy.fails_only)
    pipeline = Pipeline(aggregator)
    csm = CsmSource(decoder=CsmDecoder(source=REPLAY))
    csm.start(offline_intake(pipeline))
    count = replay(options.files, csm.receive, sys.stdin.buffer)  # unreadable: ReplayError, exit 2
    csm.tick(None)
    counters = {**pipeline.counters(), "csm": csm.stats()}
    _check_usable(options.files, count, counters)
    rendered = write_results(aggregator, counters, {"replayed_files": list(options.files)}, options.output)
    if not options.quiet:
        out.write(
            f"replayed {count} datagrams: {counters['calls']} calls from {len(aggregator.workloads)} workloads, "
            f"{counters['calls_unmapped']} unmapped, {counters['csm']['events_rejected']} rejected "
            f"-> {options.output.output_dir}/\n"
        )
        for warning in rendered.warnings:
            out.write(f"warning: {warning}\n")
        if options.output.explain:
            explain.explain_output(action_map, options.output.output_dir, None, out)
    return 0


def _check_usable(files: tuple[str, ...], count: int, counters: dict[str, Any]) -> None:
    """Nothing usable is bad input (exit 2, nothing written); some rejected lines are a warning."""
    names = ", ".join(files)
    csm = counters["csm"]
    rejected = int(csm["events_rejected"])
    reasons = ", ".join(f"{reason} {n}" for reason, n in sorted(csm["rejected_reasons"].items()))
    if count == 0:
        raise BadInput(f"no datagrams in {names}: replay reads one JSON datagram per line")
    if csm["api_call_events"] + csm["api_call_attempt_events"] == 0:
        raise BadInput(
            f"nothing usable in {names}: {count} lines read, none a CSM event ({reasons or 'none accepted'}); "
            "replay reads one JSON datagram per line (a pretty-printed JSON document spans several)"
        )
    if rejected:
        log.warning("%d of the events in %s were rejected (%s); the others were replayed", rejected, names, reasons)
