"""The committed text of the mapping: one line per operation, per IAM prefix for resources (reviewable diffs)."""

from __future__ import annotations

import json
from itertools import groupby
from typing import Any


def render(data: dict[str, Any]) -> str:
    lines = [
        "{",
        f'"format": {data["format"]},',
        f'"inputs": {json.dumps(data["inputs"], sort_keys=True)},',
        '"services": {',
        *_services(data["services"]),
        "},",
        f'"iam_actions": {json.dumps(data["iam_actions"], sort_keys=True)},',
        f'"s3_scopes": {json.dumps(data["s3_scopes"], sort_keys=True)},',
        '"action_resources": {',
        *_per_prefix(data["action_resources"]),
        "},",
        '"resource_formats": {',
        *_joined(
            [f"{json.dumps(p)}: {json.dumps(f, sort_keys=True)}" for p, f in sorted(data["resource_formats"].items())]
        ),
        "}",
        "}",
    ]
    return "\n".join(lines) + "\n"


def _services(services: dict[str, Any]) -> list[str]:
    lines = []
    items = list(services.items())
    for index, (service_id, record) in enumerate(items):
        head = {"prefix": record["prefix"], "aliases": record["aliases"]}
        lines.append(f'{json.dumps(service_id)}: {json.dumps(head)[:-1]}, "operations": {{')
        ops = [
            f"  {json.dumps(api)}: {json.dumps(m, sort_keys=True)}" for api, m in sorted(record["operations"].items())
        ]
        lines += _joined(ops)
        lines.append("}}" + ("," if index < len(items) - 1 else ""))
    return lines


def _per_prefix(action_resources: dict[str, list[str]]) -> list[str]:
    groups = groupby(sorted(action_resources.items()), key=lambda item: item[0].partition(":")[0])
    return _joined([", ".join(f"{json.dumps(a)}: {json.dumps(k)}" for a, k in group) for _, group in groups])


def _joined(lines: list[str]) -> list[str]:
    return [line + ("," if i < len(lines) - 1 else "") for i, line in enumerate(lines)]
