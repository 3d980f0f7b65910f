from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

from collector_runtime.archive import ArchiveOptions, ArchiveWriter, pending_files
from collector_runtime.core.events import redact
from tests.conftest import SECRET_ACCESS_KEY_ID, assert_no_secrets, attempt, call
from tests.helpers import wait_for

DAY = 1795303566.0  # 2026-11-21T... UTC


class Clock:
    def __init__(self, now: float = DAY) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def read_lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def test_events_are_archived_redacted_in_hive_partitions(tmp_path: Path) -> None:
    rolled: list[Path] = []
    writer = ArchiveWriter(ArchiveOptions(tmp_path, "c1"), on_rolled=rolled.append, clock=Clock())
    writer.append([attempt("S3", "GetObject"), call("S3", "GetObject")])
    writer.close()
    assert len(rolled) == 1
    path = rolled[0]
    assert (
        path.parent.name == "dt=2026-11-21" and path.name.startswith("c1-20261121T") and path.name.endswith(".jsonl.gz")
    )
    records = read_lines(path)
    assert [r["Type"] for r in records] == ["ApiCallAttempt", "ApiCall"]
    assert records[0]["AccessKeyAccount"] == "581039954779"  # what AKIAIOSFODNN7EXAMPLE encodes
    assert_no_secrets(gzip.decompress(path.read_bytes()).decode())
    assert pending_files(tmp_path) == [path]


def test_files_roll_by_size_age_and_day(tmp_path: Path) -> None:
    clock = Clock()
    rolled: list[Path] = []
    writer = ArchiveWriter(
        ArchiveOptions(tmp_path, "c1", max_bytes=2_000, max_seconds=60), on_rolled=rolled.append, clock=clock
    )
    for _ in range(20):  # ~300 bytes each: a roll every seven events
        writer.append([call("DynamoDB", "PutItem")])
    assert wait_for(lambda: len(rolled) >= 2)
    count = len(rolled)
    writer.append([call("DynamoDB", "PutItem")])
    clock.now += 61
    writer.tick(clock.now)  # by age
    assert wait_for(lambda: len(rolled) == count + 1)
    writer.append([call("DynamoDB", "PutItem")])
    writer.tick(DAY + 86_400)  # by day
    writer.close()
    assert wait_for(lambda: len(rolled) == count + 2)
    total = sum(len(read_lines(p)) for p in rolled)
    assert total == 22
    assert len({p.name for p in rolled}) == len(rolled)


def test_a_file_being_written_is_hidden(tmp_path: Path) -> None:
    writer = ArchiveWriter(ArchiveOptions(tmp_path, "c1"), clock=Clock())
    writer.append([call("SQS", "SendMessage")])
    writer.roll()
    writer.append([call("SQS", "SendMessage")])
    time.sleep(0.2)
    visible = [p.name for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(visible) == 1
    writer.close()


def test_redaction_keeps_everything_but_the_secrets() -> None:
    record = attempt("S3", "GetObject")
    before = dict(record)
    redact(record)
    assert set(before) - set(record) == {"AccessKey", "SessionToken"}
    assert record["AccessKeyAccount"] == "581039954779"
    assert SECRET_ACCESS_KEY_ID not in json.dumps(record)
