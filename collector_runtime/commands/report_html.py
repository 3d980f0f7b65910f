"""`report --html FILE`: the page of core/report_page.py, from the calls `report` read (its archive or Athena)
or from a collector's output directory (`--from-output DIR`: its state.json, alerts.jsonl and stats.json)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from ..contract import STATE_FILE, STATS_FILE
from ..core.aggregate import Aggregator
from ..core.policy import PolicyBuilder
from ..core.report_page import render_page, workload_views
from ..core.state import restore
from ..errors import BadInput, Failure
from ..input_files import json_document, read_limited
from ..limits import MAX_STATE_FILE_BYTES
from ..outputs.alert_sinks import ALERTS_FILE
from ..settings import ReportOptions

MAX_ALERT_LINES = 100_000


def restore_output_dir(aggregator: Aggregator, directory: Path) -> None:
    """The calls a collector kept in `directory`/state.json (bad input if it is no state snapshot)."""
    try:
        path = directory / STATE_FILE
        restore(aggregator, json_document(read_limited(path, MAX_STATE_FILE_BYTES), str(path), MAX_STATE_FILE_BYTES))
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise BadInput(f"cannot read {directory / STATE_FILE}: {getattr(error, 'strerror', None) or error}") from error


def alert_details(directory: Path) -> list[dict[str, Any]]:
    """The `detail` of each event in `directory`/alerts.jsonl; a line that is no event is skipped."""
    details: list[dict[str, Any]] = []
    try:
        with (directory / ALERTS_FILE).open(encoding="utf-8", errors="replace") as lines:
            for number, line in enumerate(lines):
                if number >= MAX_ALERT_LINES:
                    break
                try:
                    detail = json_document(line, ALERTS_FILE).get("detail")
                except (BadInput, AttributeError):
                    continue
                if isinstance(detail, dict):
                    details.append(detail)
    except OSError:
        return []
    return details


def drift_summaries(directory: Path) -> dict[str, Any]:
    """The last drift check of each mapped workload, as the collector wrote it in stats.json."""
    try:
        path = directory / STATS_FILE
        stats = json_document(read_limited(path, MAX_STATE_FILE_BYTES), str(path), MAX_STATE_FILE_BYTES)
        found = stats["alerts"]["drift"]["workloads"]
    except (OSError, BadInput, KeyError, TypeError):
        return {}
    return dict(found) if isinstance(found, dict) else {}


def write_html(aggregator: Aggregator, options: ReportOptions, source: str) -> None:
    assert options.html is not None
    directory = options.from_output
    alerts = alert_details(directory) if directory else []
    drift = drift_summaries(directory) if directory else {}
    builder = PolicyBuilder(aggregator.action_map, options.output.policy)
    page = render_page(
        workload_views(aggregator, builder, alerts, drift), title="Observed AWS permissions", source=source
    )
    try:
        options.html.write_text(page, encoding="utf-8")
    except OSError as error:
        raise Failure(f"cannot write the report to {options.html}: {error.strerror or error}") from error
