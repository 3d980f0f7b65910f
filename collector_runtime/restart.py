"""Continue where the previous run stopped: restore state.json, salvage an archive file cut short.

The state snapshot is written atomically (and fsync'd) at every flush, so after a crash or `kill -9`
the collector loses at most what arrived since the last flush; after SIGTERM it loses nothing.
A snapshot that cannot be read is set aside (state.json.unreadable-<time>), never fatal.
"""

from __future__ import annotations

import gzip
import json
import logging
import time
import zlib
from pathlib import Path
from typing import Any

from .archive import PART_PREFIX, PART_SUFFIX
from .core.aggregate import Aggregator
from .core.state import restore
from .outputs import STATE

log = logging.getLogger("csm_collector")


def restore_state(
    aggregator: Aggregator, output_dir: Path, *, s3: Any = None, bucket: str | None = None, prefix: str = ""
) -> bool:
    """Restore the last snapshot: the local state.json, else (a new container) the published one."""
    path = output_dir / STATE
    text = _read_local(path) or _read_published(s3, bucket, prefix + STATE)
    if text is None:
        return False
    try:
        restore(aggregator, json.loads(text))
    except (ValueError, KeyError, TypeError, AttributeError) as error:
        if path.exists():
            aside = path.with_name(f"{STATE}.unreadable-{int(time.time())}")
            path.replace(aside)
            log.error("state: cannot restore %s (%s); set aside as %s, starting empty", path, error, aside.name)
        return False
    aggregator.take_notices()  # restored actions are not news for the live view
    log.info("state: restored %d workloads (%d calls)", len(aggregator.workloads), aggregator.stats.api_call_events)
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


def salvage_archive_parts(directory: Path) -> list[Path]:
    """Archive files a crash cut short: keep every complete line they hold as a proper file."""
    salvaged = []
    for part in sorted(directory.glob(f"dt=*/{PART_PREFIX}*{PART_SUFFIX}")):
        final = part.with_name(part.name[len(PART_PREFIX) : -len(PART_SUFFIX)])
        data = _complete_lines(part.read_bytes())
        if data:
            final.write_bytes(gzip.compress(data, compresslevel=1))
            salvaged.append(final)
        part.unlink()
        log.warning("archive: salvaged %s (%d bytes of complete lines)", final.name, len(data))
    return salvaged


def _complete_lines(compressed: bytes) -> bytes:
    decompressor = zlib.decompressobj(31)
    try:
        data = decompressor.decompress(compressed)
    except zlib.error:
        data = b""
    return data[: data.rfind(b"\n") + 1]
