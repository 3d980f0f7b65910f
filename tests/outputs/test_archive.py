from __future__ import annotations

import gzip
import json
import time
from pathlib import Path

from collector_runtime.core.records import DENIED
from collector_runtime.outputs.archive import ArchiveOptions, ArchiveWriter, pending_files
from tests.conftest import observed
from tests.helpers import wait_for

DAY = 1795303566.0  # 2026-11-21T... UTC


class Clock:
    def __init__(self, now: float = DAY) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def read_lines(path: Path) -> list[dict]:  # type: ignore[type-arg]
    return [json.loads(line) for line in gzip.decompress(path.read_bytes()).splitlines()]


def test_calls_are_archived_as_records_in_hive_partitions(tmp_path: Path) -> None:
    rolled: list[Path] = []
    writer = ArchiveWriter(ArchiveOptions(tmp_path, "c1"), on_rolled=rolled.append, clock=Clock())
    bucket = ("arn:aws:s3:::reports",)
    writer.append([observed("S3", "GetObject", region="eu-west-1", account="123456789012", resources=bucket)])
    writer.append([observed("S3", "GetObject", outcome=DENIED, denied_actions=("kms:Decrypt",), time_ms=5)])
    writer.close()
    assert len(rolled) == 1
    path = rolled[0]
    assert (
        path.parent.name == "dt=2026-11-21" and path.name.startswith("c1-20261121T") and path.name.endswith(".jsonl.gz")
    )
    first = {"workload": "app", "source": "csm", "service": "S3", "operation": "GetObject"}
    assert read_lines(path) == [
        {**first, "region": "eu-west-1", "account": "123456789012", "outcome": "ok", "resources": list(bucket)},
        {**first, "outcome": "denied", "denied_actions": ["kms:Decrypt"], "time_ms": 5},
    ]
    assert pending_files(tmp_path) == [path]


def test_files_roll_by_size_age_and_day(tmp_path: Path) -> None:
    clock = Clock()
    rolled: list[Path] = []
    writer = ArchiveWriter(
        ArchiveOptions(tmp_path, "c1", max_bytes=2_000, max_seconds=60), on_rolled=rolled.append, clock=clock
    )
    for _ in range(20):  # ~300 bytes each: a roll every seven events
        writer.append(
            [
                observed(
                    "DynamoDB",
                    "PutItem",
                    region="us-east-1",
                    account="123456789012",
                    time_ms=1795303566718,
                    resources=("arn:aws:dynamodb:us-east-1:123456789012:table/orders",),
                )
            ]
        )
    assert wait_for(lambda: len(rolled) >= 2)
    count = len(rolled)
    writer.append(
        [
            observed(
                "DynamoDB",
                "PutItem",
                region="us-east-1",
                account="123456789012",
                time_ms=1795303566718,
                resources=("arn:aws:dynamodb:us-east-1:123456789012:table/orders",),
            )
        ]
    )
    clock.now += 61
    writer.tick(clock.now)  # by age
    assert wait_for(lambda: len(rolled) == count + 1)
    writer.append(
        [
            observed(
                "DynamoDB",
                "PutItem",
                region="us-east-1",
                account="123456789012",
                time_ms=1795303566718,
                resources=("arn:aws:dynamodb:us-east-1:123456789012:table/orders",),
            )
        ]
    )
    writer.tick(DAY + 86_400)  # by day
    writer.close()
    assert wait_for(lambda: len(rolled) == count + 2)
    total = sum(len(read_lines(p)) for p in rolled)
    assert total == 22
    assert len({p.name for p in rolled}) == len(rolled)


def test_a_file_being_written_is_hidden(tmp_path: Path) -> None:
    writer = ArchiveWriter(ArchiveOptions(tmp_path, "c1"), clock=Clock())
    writer.append([observed("SQS", "SendMessage")])
    writer.roll()
    writer.append([observed("SQS", "SendMessage")])
    time.sleep(0.2)
    visible = [p.name for p in tmp_path.rglob("*") if p.is_file() and not p.name.startswith(".")]
    assert len(visible) == 1
    writer.close()
