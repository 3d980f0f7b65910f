"""Safe, collision-free names for ClientIds (free text from the network): file names and SSM
parameter names."""

from __future__ import annotations

import hashlib
import re

_UNSAFE_FILE = re.compile(r"[^A-Za-z0-9._-]")
_UNSAFE_SSM = re.compile(r"[^A-Za-z0-9._-]")
_HASHED_SSM = re.compile(r"\.h[0-9a-f]{16}$")
# The longest workload name every source keeps: the SDKs cut a CSM ClientId to 255 characters, and the proxy
# user, an OTLP workload attribute and a principal's name are held to the same.
MAX_WORKLOAD = 255
MAX_STEM = 100
FILE_HASH_DIGITS = 16  # 64 bits: finding another ClientId with the same suffix is out of reach
LEGACY_FILE_HASH_DIGITS = 10  # what earlier versions used (see legacy_file_stem)


def _digest(client_id: str, length: int) -> str:
    return hashlib.sha256(client_id.encode("utf-8", "surrogatepass")).hexdigest()[:length]


def workload_file_stem(client_id: str) -> str:
    """A file-name stem for a workload: the ClientId itself when it is already safe, else a readable
    version of it plus '~' and a hash of the original. '~' never appears in a kept ClientId, so two
    distinct ClientIds never share a file (a sender cannot claim another workload's file name).

    A ClientId that ends like a part file (`.part<N>`, any case) is not kept either: a kept stem never
    ends that way, and a hashed one ends in hex digits, so `<stem>.part<N>.json` is always a part of
    `<stem>` and never another workload's policy."""
    cleaned = _UNSAFE_FILE.sub("_", client_id)[:MAX_STEM].strip(".")
    if cleaned == client_id and client_id not in ("", ".", "..") and not _part_suffix(client_id):
        return client_id
    return f"{cleaned or 'workload'}~{_digest(client_id, FILE_HASH_DIGITS)}"


def legacy_file_stem(client_id: str) -> str:
    """The stem earlier versions gave a ClientId (names ending in `.part<N>` kept, a shorter hash):
    a restart deletes files under it that are no longer any workload's (`core.policy_files`)."""
    cleaned = _UNSAFE_FILE.sub("_", client_id)[:MAX_STEM].strip(".")
    if cleaned == client_id and client_id not in ("", ".", ".."):
        return client_id
    return f"{cleaned or 'workload'}~{_digest(client_id, LEGACY_FILE_HASH_DIGITS)}"


def part_file_stem(stem: str, index: int) -> str:
    """The stem of part `index` (1, 2, ...) of the workload whose stem is `stem`."""
    return f"{stem}.part{index}"


def split_part_stem(file_stem: str) -> tuple[str, int] | None:
    """(workload stem, part index) when `file_stem` names a part file, else None."""
    split = _part_suffix(file_stem)
    if split is None or len(split[1]) > 9:  # no policy has a billion parts
        return None
    return split[0], int(split[1])


def _part_suffix(name: str) -> tuple[str, str] | None:
    """`name` as (stem, digits) when it ends in `.part<digits>` (any case), else None."""
    stem, dot, last = name.rpartition(".")
    digits = last[4:]
    if dot and stem and last[:4].lower() == "part" and digits.isascii() and digits.isdigit():
        return stem, digits
    return None


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
