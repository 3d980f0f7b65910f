"""The output directory keeps no file's text once it is written (issue 21's memory goal: ~5 KB per workload),
and still writes every file again when the directory is removed under it."""

from __future__ import annotations

import shutil
import tracemalloc
from pathlib import Path

from collector_runtime.core.rendering import FileChanges
from collector_runtime.outputs.output_dir import OutputDirectory


def files(version: int) -> FileChanges:
    texts = {f"policies/w{index}.json": f"{version}:{index}:" + "x" * 5000 for index in range(200)}
    return {**texts, "policy.json": f"merged {version}", "state.json": f"state {version}", "stats.json": "{}"}


def test_written_texts_are_not_kept(tmp_path: Path) -> None:
    directory = OutputDirectory(tmp_path)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        directory.update(files(1))
        directory.write()
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 100_000  # the texts were 1 MB
    assert (tmp_path / "policies" / "w7.json").read_text().startswith("1:7:")


def test_a_removed_directory_gets_every_file_again(tmp_path: Path) -> None:
    latest = files(1)
    directory = OutputDirectory(tmp_path, lambda: {p: t for p, t in latest.items() if p.startswith("policies/")})
    directory.update(latest)
    directory.write()
    shutil.rmtree(tmp_path)
    directory.update({"policies/w3.json": "new", "state.json": "state 2", "stats.json": "{}"})
    assert directory.write() == 202
    assert (tmp_path / "policies" / "w3.json").read_text() == "new"
    assert (tmp_path / "policies" / "w4.json").read_text() == latest["policies/w4.json"]
    assert (tmp_path / "state.json").read_text() == "state 2"
