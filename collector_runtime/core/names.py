"""Safe, collision-free names for ClientIds (free text from the network): file names and SSM
parameter names."""

from __future__ import annotations

import hashlib
import re

_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9._-]")
_UNSAFE_SSM = re.compile(r"[^A-Za-z0-9._-]")
_HASHED_SSM = re.compile(r"\.h[0-9a-f]{16}$")
MAX_STEM = 100


def _digest(client_id: str, length: int) -> str:
    return hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def workload_file_stem(client_id: str) -> str:
    """A file-name stem for a workload: the ClientId itself when it is already safe, else a readable
    version of it plus '~' and a hash of the original. '~' never appears in a kept ClientId, so two
    distinct ClientIds never share a file (a sender cannot claim another workload's file name)."""
    cleaned = _UNSAFE_FILE.sub("_", client_id)[:MAX_STEM].strip(".")
    if cleaned == client_id and client_id not in ("", ".", ".."):
        return client_id
    return f"{cleaned or 'workload'}~{_digest(client_id, 10)}"


def ssm_leaf(client_id: str) -> str:
    """The last component of a workload's SSM parameter name (SSM allows only [a-zA-Z0-9_.-] there).

    A ClientId that is not already a safe name, or that looks like a hashed one, becomes a readable
    version plus '.h' and 16 hex digits of its hash; no kept name can end that way, so two distinct
    ClientIds never share a parameter.
    """
    cleaned = _UNSAFE_SSM.sub("_", client_id)[:MAX_STEM]
    if cleaned == client_id and client_id and not _HASHED_SSM.search(client_id):
        return client_id
    return f"{cleaned or 'workload'}.h{_digest(client_id, 16)}"
