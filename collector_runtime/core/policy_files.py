"""The files of each workload's policy under policies/, and which files left by an earlier run are whose.

`<stem>.json` is a workload's policy and `<stem>.part<N>.json` its N-th part when split; `core.names`
makes both unambiguous (no workload's stem ends like a part). Files an earlier run left (parts a policy
no longer has after a restart with another `--max-policy-chars`, names earlier versions gave a workload)
are claimed by the workloads they are named after; the renderer deletes a claimed file unless it is a
current workload's file. A file named after no workload is never touched.
"""

from __future__ import annotations

from collections.abc import Iterable

from ..contract import POLICIES_DIR
from .names import part_file_stem, split_part_stem

_SUFFIX = ".json"


def policy_path(stem: str) -> str:
    return f"{POLICIES_DIR}/{stem}{_SUFFIX}"


def part_path(stem: str, index: int) -> str:
    return policy_path(part_file_stem(stem, index))


def file_stem(path: str) -> str | None:
    """The stem of `policies/<stem>.json`; None for any other path."""
    directory, _, name = path.partition("/")
    if directory != POLICIES_DIR or "/" in name or not name.endswith(_SUFFIX):
        return None
    return name[: -len(_SUFFIX)] or None


class Leftovers:
    """Policy files found at start (relative paths), each filed under every workload stem it may belong to."""

    def __init__(self, paths: Iterable[str] = ()) -> None:
        self._by_stem: dict[str, set[str]] = {}
        for path in paths:
            stem = file_stem(path)
            if stem is None:
                continue
            self._by_stem.setdefault(stem, set()).add(path)
            part = split_part_stem(stem)
            if part is not None:
                self._by_stem.setdefault(part[0], set()).add(path)

    def claim(self, stems: Iterable[str]) -> set[str]:
        """The files named after these stems (as a policy or as one of its parts); each stem claims once."""
        claimed: set[str] = set()
        for stem in stems:
            claimed |= self._by_stem.pop(stem, set())
        return claimed
