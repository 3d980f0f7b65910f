"""Logging set-up: human-readable lines, or one JSON object per line for log pipelines.

Quiet by default: the collector's own logger (`csm_collector`) logs at INFO; every other library
(botocore's "Found credentials in environment variables", urllib3, ...) only from WARNING up."""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime

LOGGER = "csm_collector"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "time": datetime.fromtimestamp(record.created, tz=UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def configure_logging(log_format: str = "text") -> None:
    handler = logging.StreamHandler(sys.stderr)
    if log_format == "json":
        handler.setFormatter(JsonFormatter())
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    if not any(getattr(h, "_csm_collector", False) for h in root.handlers):
        handler._csm_collector = True  # type: ignore[attr-defined]
        root.addHandler(handler)
    else:
        for existing in root.handlers:
            if getattr(existing, "_csm_collector", False):
                existing.setFormatter(handler.formatter)
    root.setLevel(logging.WARNING)
    logging.getLogger(LOGGER).setLevel(logging.INFO)
