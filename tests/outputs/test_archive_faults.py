"""The archive recovers after write errors (full disk, read-only directory, I/O error): it resumes as soon
as it can, counts what it could not write as dropped (with a reason), and its counters always equal what
its files hold.

The full-disk and read-only cases run on a real small tmpfs when this process may mount one (root), and
with injected failures otherwise; the injected cases run everywhere."""

from __future__ import annotations

import errno
import gzip
import os
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, Protocol

import pytest

from collector_runtime.core.records import ObservedCall
from collector_runtime.outputs.archive import ArchiveOptions, ArchiveWriter, FileCalls, salvage_archive_parts
from tests.conftest import call, datagram, observed
from tests.helpers import read_json, running_collector, send, wait_for

DAY = 1795303566.0


def events(count: int) -> list[ObservedCall]:
    """Calls that do not compress to nothing (random resources): a chunk of them needs several pages."""
    return [
        observed("S3", "GetObject", resources=(f"arn:aws:s3:::b/{os.urandom(24).hex()}",), time_ms=index)
        for index in range(count)
    ]


def archived_lines(directory: Path) -> int:
    """Lines in the archive's files (finished ones; a file still being written would be salvaged)."""
    files = list(directory.rglob("*.jsonl.gz"))
    return sum(len(gzip.decompress(path.read_bytes()).splitlines()) for path in files)


def settled(writer: ArchiveWriter, offered: int) -> bool:
    """Whether the writer thread has handled every event offered so far (written or dropped)."""
    return wait_for(lambda: writer.events_archived + writer.events_dropped == offered)


class Disk(Protocol):
    directory: Path
    calls: FileCalls

    def fill(self) -> None: ...
    def free(self) -> None: ...
    def read_only(self) -> None: ...
    def writable(self) -> None: ...


class InjectedDisk:
    """Failures injected into the writer's open and write calls."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.failure: int | None = None  # errno of every open and write while set
        self.partial = False  # write half of the next write before failing
        self.truncate_fails = False
        self.calls = FileCalls(open=self._open, pwrite=self._pwrite, truncate=self._truncate)

    def _truncate(self, fd: int, size: int) -> None:
        if self.truncate_fails:
            raise OSError(errno.EIO, os.strerror(errno.EIO))
        os.ftruncate(fd, size)

    def _open(self, path: str) -> int:
        if self.failure is not None:
            raise OSError(self.failure, os.strerror(self.failure), path)
        return FileCalls().open(path)

    def _pwrite(self, fd: int, data: bytes, offset: int) -> int:
        if self.partial:
            self.partial = False
            os.pwrite(fd, data[: len(data) // 2], offset)
            return len(data) // 2
        if self.failure is not None:
            raise OSError(self.failure, os.strerror(self.failure))
        return os.pwrite(fd, data, offset)

    def fill(self) -> None:
        self.failure = errno.ENOSPC

    def free(self) -> None:
        self.failure = None

    def read_only(self) -> None:
        self.failure = errno.EROFS

    def writable(self) -> None:
        self.failure = None


class Tmpfs:
    """A real 1 MiB tmpfs: filled with a file, freed by deleting it, remounted read-only and back."""

    def __init__(self, mount_point: Path) -> None:
        self.mount_point = mount_point
        self.directory = mount_point / "archive"
        self.calls = FileCalls()

    def mount(self, options: str) -> None:
        subprocess.run(["mount", "-o", options, str(self.mount_point)], check=True, capture_output=True)

    def fill(self) -> None:
        fd = os.open(self.mount_point / "filler", os.O_WRONLY | os.O_CREAT)
        try:
            while os.write(fd, b"\0" * 65536):
                pass
        except OSError as error:
            assert error.errno == errno.ENOSPC
        finally:
            os.close(fd)

    def free(self) -> None:
        (self.mount_point / "filler").unlink()

    def read_only(self) -> None:
        self.mount("remount,ro")

    def writable(self) -> None:
        self.mount("remount,rw")


@pytest.fixture
def disk(tmp_path: Path) -> Iterator[Disk]:
    """A real tmpfs if one can be mounted here, else injected failures (never a skip)."""
    mount_point = tmp_path / "mnt"
    mount_point.mkdir()
    try:
        command = ["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(mount_point)]
        subprocess.run(command, check=True, capture_output=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        yield InjectedDisk(tmp_path / "archive")
        return
    try:
        yield Tmpfs(mount_point)
    finally:
        subprocess.run(["umount", "-l", str(mount_point)], check=False, capture_output=True)


@pytest.fixture
def injected(tmp_path: Path) -> InjectedDisk:
    return InjectedDisk(tmp_path / "archive")


def writer_on(disk: Disk, rolled: list[Path] | None = None) -> ArchiveWriter:
    on_rolled: Callable[[Path], None] | None = rolled.append if rolled is not None else None
    return ArchiveWriter(ArchiveOptions(disk.directory, "c1"), on_rolled=on_rolled, clock=lambda: DAY, calls=disk.calls)


def offer(writer: ArchiveWriter, count: int, offered: int) -> int:
    writer.append(events(count))
    writer.flush()
    assert settled(writer, offered + count)
    return offered + count


def assert_counts_match_the_files(writer: ArchiveWriter, directory: Path, archived: int, dropped: int) -> None:
    stats: dict[str, Any] = writer.stats()
    assert stats["events_archived"] == archived_lines(directory) == archived
    assert stats["events_dropped"] == dropped
    assert sum(stats["dropped_reasons"].values()) == dropped


def run_full_disk(disk: Disk) -> ArchiveWriter:
    writer = writer_on(disk)
    offered = offer(writer, 300, 0)
    disk.fill()
    offered = offer(writer, 300, offered)  # cannot be written: dropped, counted
    assert writer.events_dropped == 300
    disk.free()
    offer(writer, 300, offered)  # written again without a roll
    writer.close()
    return writer


def test_after_a_full_disk_is_freed_the_archive_resumes(disk: Disk) -> None:
    writer = run_full_disk(disk)
    assert_counts_match_the_files(writer, disk.directory, archived=600, dropped=300)
    assert writer.stats()["dropped_reasons"] == {"disk_full": 300}


def test_after_a_full_disk_is_freed_the_archive_resumes_injected(injected: InjectedDisk) -> None:
    writer = run_full_disk(injected)
    assert_counts_match_the_files(writer, injected.directory, archived=600, dropped=300)
    assert writer.stats()["dropped_reasons"] == {"disk_full": 300}


def run_read_only(disk: Disk) -> tuple[ArchiveWriter, list[Path]]:
    rolled: list[Path] = []
    writer = writer_on(disk, rolled)
    offered = offer(writer, 100, 0)
    writer.roll()
    assert wait_for(lambda: len(rolled) == 1)
    disk.read_only()
    offered = offer(writer, 100, offered)  # its file cannot be created
    offered = offer(writer, 100, offered)
    disk.writable()
    offer(writer, 100, offered)  # a file is created at the next chunk
    writer.close()
    return writer, rolled


def test_a_read_only_directory_drops_events_until_it_is_writable(disk: Disk) -> None:
    writer, rolled = run_read_only(disk)
    assert len(rolled) == 2
    assert_counts_match_the_files(writer, disk.directory, archived=200, dropped=200)
    assert writer.stats()["dropped_reasons"] == {"not_writable": 200}


def test_a_read_only_directory_drops_events_until_it_is_writable_injected(injected: InjectedDisk) -> None:
    writer, rolled = run_read_only(injected)
    assert len(rolled) == 2
    assert_counts_match_the_files(writer, injected.directory, archived=200, dropped=200)


def test_an_io_error_mid_write_keeps_the_file_readable_and_resumes(injected: InjectedDisk) -> None:
    writer = writer_on(injected)
    offered = offer(writer, 50, 0)
    injected.partial, injected.failure = True, errno.EIO  # half a chunk reaches the file, then EIO
    offered = offer(writer, 50, offered)
    injected.failure = None
    offer(writer, 50, offered)
    writer.close()
    assert_counts_match_the_files(writer, injected.directory, archived=100, dropped=50)
    assert writer.stats()["dropped_reasons"] == {"io_error": 50}
    assert writer.files_rolled == 1  # the same file went on


def test_a_file_that_cannot_be_cut_back_is_left_for_salvage_and_a_fresh_one_started(injected: InjectedDisk) -> None:
    rolled: list[Path] = []
    writer = writer_on(injected, rolled)
    offered = offer(writer, 50, 0)
    injected.partial, injected.failure, injected.truncate_fails = True, errno.EIO, True
    offered = offer(writer, 50, offered)
    injected.failure = None
    offer(writer, 50, offered)
    writer.close()
    assert [path.name.endswith("-1.jsonl.gz") for path in rolled] == [True]  # the fresh file
    assert writer.stats()["events_archived"] == 100  # 50 in the damaged file, 50 in the fresh one
    assert archived_lines(injected.directory) == 50 and writer.events_dropped == 50
    salvage_archive_parts(injected.directory)  # as the next start does: the damaged file's complete chunks
    assert archived_lines(injected.directory) >= 100 == writer.events_archived  # never claims more


def test_the_backlog_limit_is_a_reason_too(injected: InjectedDisk, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("collector_runtime.outputs.archive.MAX_BACKLOG_BYTES", -1)
    writer = writer_on(injected)
    writer.append(events(10))
    writer.flush()
    writer.close()
    assert_counts_match_the_files(writer, injected.directory, archived=0, dropped=10)
    assert writer.stats()["dropped_reasons"] == {"backlog": 10}


def slow_pwrite(fd: int, data: bytes, offset: int) -> int:
    time.sleep(0.3)  # a slow disk: the writer thread is still writing when the collector stops
    return os.pwrite(fd, data, offset)


def test_the_last_stats_json_counts_what_the_closed_archive_holds(tmp_path: Path) -> None:
    archive = ArchiveWriter(ArchiveOptions(tmp_path / "archive", "c1"), calls=FileCalls(pwrite=slow_pwrite))
    with running_collector(tmp_path / "out", archive=archive, flush_interval=3600) as service:
        send(service.sources["csm"].address[1], *(datagram(call("S3", "GetObject", f"w{n}")) for n in range(50)))
        assert wait_for(lambda: service.pipeline.counters()["calls"] == 50)
    stats = read_json(tmp_path / "out" / "stats.json")["archive"]
    assert stats["events_archived"] == archived_lines(tmp_path / "archive") == 50
    assert stats["events_dropped"] == 0


def test_a_file_that_could_not_be_finished_is_finished_when_the_disk_allows(injected: InjectedDisk) -> None:
    rolled: list[Path] = []
    writer = writer_on(injected, rolled)
    offered = offer(writer, 50, 0)
    injected.fill()
    writer.roll()  # its last block cannot be written
    offered = offer(writer, 50, offered)
    assert rolled == [] and writer.events_dropped == 50
    injected.free()
    offer(writer, 50, offered)
    assert wait_for(lambda: len(rolled) == 1)  # finished at the next chunk
    writer.close()
    assert len(rolled) == 2
    assert_counts_match_the_files(writer, injected.directory, archived=100, dropped=50)
