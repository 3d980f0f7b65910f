"""Switch CSM on and off in the AWS shared config file (~/.aws/config or $AWS_CONFIG_FILE).

Line-based edits: only the `csm_*` lines of one profile are added, changed or removed; comments,
ordering, other profiles and nested settings are left exactly as they were.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..outputs.atomic import atomic_write

CSM_KEYS = ("csm_enabled", "csm_host", "csm_port", "csm_client_id")
_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*(?:[#;].*)?$")


def section_name(profile: str) -> str:
    return "default" if profile == "default" else f"profile {profile}"


def _is_section(header: str, profile: str) -> bool:
    normalised = re.sub(r"\s+", " ", header)
    return normalised == section_name(profile) or (profile == "default" and normalised == "profile default")


def _find_section(lines: list[str], profile: str) -> tuple[int, int] | None:
    """(header index, end index) of the profile's section, or None."""
    start = None
    for index, line in enumerate(lines):
        match = _HEADER.match(line)
        if not match:
            continue
        if start is not None:
            return start, index
        if _is_section(match.group("name"), profile):
            start = index
    return (start, len(lines)) if start is not None else None


def _key_of(line: str) -> str | None:
    # Only top-level keys (no indentation): indented lines belong to nested settings such as `s3 =`.
    match = re.match(r"^([A-Za-z0-9_]+)\s*=", line)
    return match.group(1) if match else None


def set_csm(text: str, profile: str, values: Mapping[str, str]) -> str:
    """`text` with the given csm_* keys set in `profile` (created if missing)."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    section = _find_section(lines, profile)
    if section is None:
        if lines and lines[-1].strip():
            lines.append("")
        lines.append(f"[{section_name(profile)}]")
        section = (len(lines) - 1, len(lines))
    start, end = section
    pending = dict(values)
    for index in range(start + 1, end):
        key = _key_of(lines[index])
        if key in pending:
            lines[index] = f"{key} = {pending.pop(key)}"
    lines[start + 1 : start + 1] = [f"{key} = {value}" for key, value in pending.items()]
    return newline.join(lines) + newline


def unset_csm(text: str, profile: str, keys: tuple[str, ...] = ("csm_enabled",)) -> str:
    """`text` without the given csm_* keys in `profile`; everything else unchanged."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    section = _find_section(lines, profile)
    if section is None:
        return text
    start, end = section
    kept = [line for i, line in enumerate(lines) if not (start < i < end and _key_of(line) in keys)]
    return newline.join(kept) + (newline if kept else "")


def rewrite(path: Path, edit: str, profile: str, values: Mapping[str, str]) -> bool:
    """Apply set/unset to the file at `path` (following symlinks); returns whether it changed."""
    target = Path(os.path.realpath(path))
    before = target.read_text(encoding="utf-8") if target.exists() else ""
    after = set_csm(before, profile, values) if edit == "set" else unset_csm(before, profile, tuple(values))
    if after == before:
        return False
    mode = target.stat().st_mode & 0o777 if target.exists() else 0o600
    atomic_write(target, after, mode=mode)
    return True
