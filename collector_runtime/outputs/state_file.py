"""Continue where the previous run stopped: read the last state.json (local, else the published one).

The state snapshot is written atomically (and fsync'd) at every flush, so after a crash or `kill -9`
the collector loses at most what arrived since the last flush; after SIGTERM it loses nothing.
A snapshot that cannot be read is set aside (state.json.unreadable-<time>), never fatal.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ..contract import STATE_FILE
from ..input_files import json_document
from ..limits import MAX_STATE_FILE_BYTES

log = logging.getLogger("csm_collector")
Restore = Callable[[dict[str, Any]], None]


def restore_state(
    restore: Restore, output_dir: Path, *, s3: Any = None, bucket: str | None = None, key: str = ""
) -> bool:
    """Hand the last snapshot to `restore`; False if there was none or it could not be used."""
    path = output_dir / STATE_FILE
    text = _read_local(path) or _read_published(s3, bucket, key)
    if text is None:
        return False
    try:
        restore(json_document(text, str(path), MAX_STATE_FILE_BYTES))  # bounded: size and nesting
    except (ValueError, KeyError, TypeError, AttributeError) as error:  # BadInput is a ValueError
        if path.exists():
            aside = path.with_name(f"{STATE_FILE}.unreadable-{int(time.time())}")
            path.replace(aside)
            log.error("state: cannot restore %s (%s); set aside as %s, starting empty", path, error, aside.name)
        return False
    return True


def _read_local(path: Path) -> str | None:
    try:
        return path.read_text()
    except FileNotFoundError:
        return None
    except OSError as error:
        log.error("state: cannot read %s: %s", path, error)
        return None


def _read_published(s3: Any, bucket: str | None, key: str) -> str | None:
    if s3 is None or not bucket:
        return None
    try:
        return str(s3.get_object(Bucket=bucket, Key=key)["Body"].read().decode())
    except Exception as error:  # no published state yet, or S3 unreachable: start empty
        log.info("state: no published state at s3://%s/%s (%s)", bucket, key, type(error).__name__)
        return None
