"""The output directory: brings the files on disk up to date with what the core rendered, atomically.

Rendering (core.rendering) and writing are separate steps: a flush hands the changed texts over
with `update`, and `write` writes them. A file that could not be written stays pending and is
written at the next flush, so a full disk loses nothing once it has room again; if the directory was
removed under the collector, every file is written again: state.json and stats.json are in every flush,
the policies are rendered again (`files_again`: their texts are not kept, ~5 KB per workload).
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from ..contract import POLICIES_DIR, STATE_FILE, STATS_FILE
from ..core.rendering import FileChanges
from .atomic import atomic_write


def _write_order(path: str) -> tuple[bool, bool, str]:
    """State first, then policies, stats last: a reader that sees a new stats.json sees all files."""
    return path != STATE_FILE, path == STATS_FILE, path


class OutputDirectory:
    def __init__(self, root: Path, files_again: Callable[[], FileChanges] = dict) -> None:
        """`files_again`: the latest text of every policy file (core.rendering's `FlushRenderer.files_again`)."""
        self.root = root
        self._root = os.fspath(root)  # plain string paths: this runs for every changed file at every flush
        self._files_again = files_again
        self._pending: FileChanges = {}
        self._policies_written = False

    def update(self, files: FileChanges) -> None:
        self._pending.update(files)

    def write(self) -> int:
        """Write what is pending; raises OSError with the unwritten files still pending."""
        if self._policies_written and not os.path.isdir(os.path.join(self._root, POLICIES_DIR)):
            self._pending = {**self._files_again(), **self._pending}  # the directory was removed: everything again
            self._policies_written = False
        written = 0
        for relative in sorted(self._pending, key=_write_order):
            text = self._pending[relative]
            target = os.path.join(self._root, relative)
            if text is None:
                Path(target).unlink(missing_ok=True)
            else:
                atomic_write(target, text, durable=relative == STATE_FILE)
                self._policies_written = self._policies_written or relative.startswith(POLICIES_DIR)
            del self._pending[relative]
            written += 1
        return written

    def policy_files(self) -> list[str]:
        """The policy files on disk (`policies/<name>.json`), for the renderer to clean up what an earlier
        run left (see core.policy_files); none if the directory cannot be read."""
        try:
            with os.scandir(os.path.join(self._root, POLICIES_DIR)) as entries:
                return [f"{POLICIES_DIR}/{e.name}" for e in entries if e.name.endswith(".json") and e.is_file()]
        except OSError:
            return []

    @property
    def pending_files(self) -> int:
        return len(self._pending)
