"""Where a workload's policy was learned, from state.json and the policy itself. Pure."""

from __future__ import annotations

from collections import Counter
from typing import Any

from ..arns import is_account_id
from ..usage import SCOPES
from .tokens import Learned


def learned_context(state: dict[str, Any] | None, workload: str, document: dict[str, Any]) -> Learned:
    """The caller accounts and regions of the workload's calls in `state` (state.json; None when absent:
    then the accounts and regions its policy's ARNs name most), and the partition its ARNs name most."""
    accounts: set[str] = set()
    regions: set[str] = set()
    for row in _calls(state, workload):
        scopes = row[SCOPES] if len(row) > SCOPES and isinstance(row[SCOPES], list) else []
        for scope in scopes:
            if isinstance(scope, list) and len(scope) >= 2:
                region, account = scope[0], scope[1]
                if isinstance(account, str) and is_account_id(account):
                    accounts.add(account)
                if isinstance(region, str) and region:
                    regions.add(region)
    arns = _arn_fields(document)
    if not accounts and arns[2]:
        accounts.add(arns[2].most_common(1)[0][0])
    if not regions and len(arns[1]) == 1:
        regions.update(arns[1])
    partition = arns[0].most_common(1)[0][0] if arns[0] else "aws"
    return Learned(frozenset(accounts), next(iter(regions)) if len(regions) == 1 else None, partition)


def _calls(state: dict[str, Any] | None, workload: str) -> list[list[Any]]:
    workloads = state.get("workloads") if isinstance(state, dict) else None
    entry = workloads.get(workload) if isinstance(workloads, dict) else None
    calls = entry.get("calls") if isinstance(entry, dict) else None
    return [row for row in calls if isinstance(row, list)] if isinstance(calls, list) else []


def _arn_fields(document: dict[str, Any]) -> tuple[Counter[str], Counter[str], Counter[str]]:
    """How often each partition, region and account appears in the document's resource ARNs."""
    partitions: Counter[str] = Counter()
    regions: Counter[str] = Counter()
    accounts: Counter[str] = Counter()
    statements = document.get("Statement", [])
    for statement in [statements] if isinstance(statements, dict) else statements:
        resources = statement.get("Resource", []) if isinstance(statement, dict) else []
        for resource in [resources] if isinstance(resources, str) else resources:
            parts = resource.split(":", 5) if isinstance(resource, str) else []
            if len(parts) == 6 and parts[0] == "arn":
                partitions[parts[1]] += 1
                regions.update([parts[3]] if parts[3] else [])
                accounts.update([parts[4]] if is_account_id(parts[4]) else [])
    return partitions, regions, accounts
