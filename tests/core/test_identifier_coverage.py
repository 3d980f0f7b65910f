"""The generator report's coverage figure: resource-typed actions whose identifying request member is
read, out of all (mapping/mapgen/identifier_coverage.py)."""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType, SimpleNamespace
from typing import Any

import pytest

from collector_runtime.core.mapping import ActionMap
from collector_runtime.data import MAPPING_RESOURCE

ROOT = Path(__file__).resolve().parents[2]


def _module(name: str) -> ModuleType:
    if str(ROOT / "mapping") not in sys.path:
        sys.path.insert(0, str(ROOT / "mapping"))
    return importlib.import_module(name)


@pytest.fixture(scope="module")
def data() -> dict[str, Any]:
    return json.loads((ROOT / "collector_runtime" / "data" / MAPPING_RESOURCE).read_text())


@pytest.mark.parametrize(
    ("service", "api", "members", "expected"),
    [
        ("DynamoDB", "GetItem", ["TableName", "Key"], {"dynamodb:GetItem": True}),
        ("SQS", "SendMessage", ["QueueUrl", "MessageBody"], {"sqs:SendMessage": True}),
        ("SNS", "Publish", ["TopicArn", "Message"], {"sns:Publish": True}),
        ("S3", "GetObject", ["Bucket", "Key"], {"s3:GetObject": True}),
        ("SFN", "CreateStateMachine", ["name", "definition", "roleArn"], {"states:CreateStateMachine": True}),
        ("DynamoDB", "GetItem", ["Key"], {"dynamodb:GetItem": False}),  # no table named: unread
        ("STS", "GetCallerIdentity", [], {}),  # no resource type: not counted
    ],
)
def test_known_operations_are_counted_read_or_unread(
    data: dict[str, Any], service: str, api: str, members: list[str], expected: dict[str, bool]
) -> None:
    coverage = _module("mapgen.identifier_coverage")
    reads = coverage.action_reads(ActionMap(data), service, api, members)
    assert {a: r for a, r in reads.items() if a in expected or not expected} == expected


def test_the_report_prints_the_figure_from_the_models(data: dict[str, Any]) -> None:
    report = _module("mapgen.report")
    models = _module("mapgen.models")
    services = ("DynamoDB", "SQS", "Lambda")
    built = SimpleNamespace(data=data, origin_of=dict.fromkeys(services, models.BOTOCORE))
    lines = report.identifier_coverage_lines(built)
    assert lines[0].startswith("resource-typed actions whose identifying request member is read")
    read, total = (int(n) for n in lines[1].split()[1].split("/"))
    assert 0 < read < total  # DynamoDB's GetItem is read; some operations name no resource of theirs
    assert total >= len(data["services"]["DynamoDB"]["operations"]) // 2
