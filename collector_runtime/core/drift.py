"""Drift: a workload's observed policy against its role's policies, as alerts. Pure (`now` is passed in).

The comparison is `compare`'s (by action, wildcards expanded against the Service Authorization
Reference). What the workload used and the role does not grant is reported at once; what the role
grants and the workload never used only once the workload has been watched for `unused_after` seconds
(a workload that has run for a minute has not yet used everything it needs).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .alerts import DRIFT, Alert, grant_pairs
from .compare import ActionUniverse, GrantedPolicy, Observed, compare

MISSING, UNUSED = "missing", "unused"
MAX_UNUSED = 200  # unused actions reported per workload and role at most (a role granting "*": thousands)


@dataclass(frozen=True)
class DriftInput:
    workload: str
    role_arn: str
    observed: dict[str, Any]  # the workload's policy document
    watched_since: float  # when the collector first saw the workload (seconds)
    first_seen_ms: dict[str, int | None]  # action -> when a call first needed it


def drift_alerts(
    item: DriftInput, granted: list[GrantedPolicy], universe: ActionUniverse, *, now: float, unused_after: float
) -> tuple[list[Alert], dict[str, Any]]:
    """The alerts, and compare's report (its summary goes into the HTML report)."""
    report = compare(Observed.from_policy(item.observed), granted, universe)
    role = (("finding", MISSING), ("role", item.role_arn))
    resources: dict[str, list[str]] = {}
    for action, resource in grant_pairs(item.observed):
        resources.setdefault(universe.canonical(action), []).append(resource)
    alerts = [
        Alert(DRIFT, item.workload, action, resource, item.first_seen_ms.get(action), role)
        for action in (entry["action"] for entry in report["missing"])
        for resource in resources.get(action, ["*"])
    ]
    if now - item.watched_since >= unused_after:
        unused = (("finding", UNUSED), ("role", item.role_arn))
        alerts += [Alert(DRIFT, item.workload, a, "*", None, unused) for a in report["unused_granted"][:MAX_UNUSED]]
    return alerts, report
