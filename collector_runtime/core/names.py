"""Safe, collision-free file names for ClientIds (which are free text from the network)."""

from __future__ import annotations

import hashlib
import re

_UNSAFE = re.compile(r"[^A-Za-z0-9._-]")
MAX_STEM = 100


def workload_file_stem(client_id: str) -> str:
    """A file-name stem for a workload: the ClientId itself when it is already safe, else a readable
    version of it plus '~' and a hash of the original. '~' never appears in a kept ClientId, so two
    distinct ClientIds never share a file (a sender cannot claim another workload's file name)."""
    cleaned = _UNSAFE.sub("_", client_id)[:MAX_STEM].strip(".")
    if cleaned == client_id and client_id not in ("", ".", ".."):
        return client_id
    digest = hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:10]
    return f"{cleaned or 'workload'}~{digest}"
