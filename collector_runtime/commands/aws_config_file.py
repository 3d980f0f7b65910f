"""Switch CSM on and off in the AWS shared config file (~/.aws/config or $AWS_CONFIG_FILE).

Line-based edits: only the `csm_*` lines of one profile are added, changed or removed; comments,
ordering, other profiles and nested settings are left exactly as they were. A profile section that
`set-ini` creates carries a comment saying so, and `unset-ini` removes it again once nothing else is
in it. A file that is not a valid config file (a setting before any section, an unterminated section
header) is refused, never appended to.
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from pathlib import Path

from ..errors import BadInput, Failure
from ..outputs.atomic import atomic_write

CSM_KEYS = ("csm_enabled", "csm_host", "csm_port", "csm_client_id")
CREATED_MARK = "# created by csm-collector set-ini (unset-ini removes this profile when nothing else is in it)"
_HEADER = re.compile(r"^\s*\[\s*(?P<name>[^\]]+?)\s*\]\s*(?:[#;].*)?$")
_SETTING = re.compile(r"^[A-Za-z0-9_.-]+\s*=")


def config_problem(text: str) -> str | None:
    """Why `text` is not a config file botocore reads as one (None if it is): 'line N: ...'."""
    in_section = False
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith(("#", ";")):
            continue
        if stripped.startswith("["):
            if not _HEADER.match(line):
                return f"line {number}: an unterminated or malformed section header"
            in_section = True
        elif not in_section:
            return f"line {number}: a setting before any [section]"
        elif not line[0].isspace() and not _SETTING.match(line):
            return f"line {number}: neither a setting (key = value) nor a [section]"
    return None


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
        lines += [f"[{section_name(profile)}]", CREATED_MARK]
        section = (len(lines) - 2, len(lines))
    start, end = section
    if start + 1 < end and lines[start + 1] == CREATED_MARK:
        start += 1  # the keys go after the mark, which stays right below the header
    pending = dict(values)
    for index in range(start + 1, end):
        key = _key_of(lines[index])
        if key in pending:
            lines[index] = f"{key} = {pending.pop(key)}"
    lines[start + 1 : start + 1] = [f"{key} = {value}" for key, value in pending.items()]
    return newline.join(lines) + newline


def unset_csm(text: str, profile: str, keys: tuple[str, ...] = CSM_KEYS) -> str:
    """`text` without the given csm_* keys in `profile` (and without the profile, if set-ini created it
    and nothing else is left in it); everything else unchanged."""
    newline = "\r\n" if "\r\n" in text else "\n"
    lines = text.splitlines()
    section = _find_section(lines, profile)
    if section is None:
        return text
    start, end = section
    body = [line for line in lines[start + 1 : end] if _key_of(line) not in keys]
    if body[:1] == [CREATED_MARK] and not any(line.strip() for line in body[1:]):
        head = lines[:start]
        while head and not head[-1].strip():  # the blank line set-ini put before the section
            head.pop()
        kept = head + lines[end:]
    else:
        kept = lines[: start + 1] + body + lines[end:]
    return newline.join(kept) + (newline if kept else "")


def rewrite(path: Path, edit: str, profile: str, values: Mapping[str, str]) -> bool:
    """Apply set/unset to the file at `path` (following symlinks); returns whether it changed.
    BadInput: the file cannot be read or is no valid config file, or (unset) it has no such profile;
    Failure: it cannot be written."""
    target = Path(os.path.realpath(path))
    before = _read(target)
    problem = config_problem(before)
    if problem:
        raise BadInput(f"{path} is not a valid AWS config file ({problem}): fix it first; nothing was changed")
    if edit == "unset" and _find_section(before.splitlines(), profile) is None:
        raise BadInput(f"no profile {profile!r} in {path} (no [{section_name(profile)}] section)")
    after = set_csm(before, profile, values) if edit == "set" else unset_csm(before, profile)
    if after == before:
        return False
    try:
        mode = target.stat().st_mode & 0o777 if target.exists() else 0o600
        atomic_write(target, after, mode=mode)
    except OSError as error:
        raise Failure(f"cannot write {path}: {error.strerror or error}") from error
    return True


def _read(target: Path) -> str:
    """The file's text ("" when there is none yet); BadInput when it cannot be read (a directory, not UTF-8)."""
    try:
        return target.read_text(encoding="utf-8") if target.exists() else ""
    except (OSError, UnicodeDecodeError) as error:
        raise BadInput(f"cannot read {target}: {getattr(error, 'strerror', None) or error}") from error
