"""`csm-collector apply`: a workload's learned policy on a role, as customer-managed policies (csm-<workload>,
split into csm-<workload>-partN past IAM's size limit). A dry run by default: it prints what the role would
gain and lose. With --execute it writes a restore record first, then changes the role;
`apply --restore RECORD --execute` puts the role back as the record says."""

from __future__ import annotations

import datetime as dt
import logging
import re
from pathlib import Path
from typing import Any, TextIO

from ..aws import aws_clients
from ..core.compare import ActionUniverse, GrantedPolicy, Observed, allowed_actions
from ..core.export import resolved_parts
from ..core.export.naming import policy_name
from ..core.export.role_plan import RECORD_SCHEMA, Step, plan_apply, plan_restore
from ..core.export.tokens import Token, resolve
from ..core.json_codec import dumps_pretty
from ..data import load_action_map
from ..errors import BadInput, Failure
from ..input_files import json_document, read_limited
from ..outputs.atomic import atomic_write
from ..outputs.role_policies import managed_policy_arn, role_arn, role_state, run_steps
from ..settings import ApplyOptions
from .compare_inputs import granted_by_role
from .learned_inputs import LearnedPolicies

log = logging.getLogger("csm_collector")
LISTED = 20  # actions listed in the diff at most per kind; the rest are counted


def run(args: ApplyOptions, out: TextIO) -> int:
    services = ["iam", *(["s3"] if args.learned.s3_bucket else [])]
    clients = aws_clients(args.learned.region, services, purpose="changing a role's policies (AWS access)")
    iam = clients["iam"]
    if args.restore is not None:
        return _restore(iam, args, out)
    workload, role = args.learned.workload or "", args.role or ""  # settings require both without --restore
    policy = LearnedPolicies(args.learned, clients.get("s3")).policy(workload)
    arn = role_arn(iam, role)
    partition, account = arn.split(":")[1], arn.split(":")[4]
    values = {Token.ACCOUNT: account, Token.PARTITION: partition, Token.REGION: policy.learned.region or ""}
    parts = resolved_parts(policy, values)
    desired = {
        managed_policy_arn(arn, policy_name(workload, index, len(parts))): part
        for index, part in enumerate(parts, start=1)
    }
    granted, _ = granted_by_role(iam, role)
    state = role_state(iam, role, [*desired, *_earlier_parts(workload, granted, desired)])
    universe = ActionUniverse(load_action_map().all_actions())
    observed = Observed.from_policy(resolve(policy.document, values))
    replaced = _replaced(observed, granted, desired, universe) if args.detach_replaced else []
    steps = plan_apply(state, desired, replaced)
    _print_plan(out, role, workload, steps, _diff(granted, steps, desired, universe, observed))
    if not steps:
        out.write("nothing to change\n")
        return 0
    if not args.execute:
        out.write("dry run: nothing changed (--execute to apply)\n")
        return 0
    record = args.record or Path(f"csm-apply-{role}-{dt.datetime.now(dt.UTC):%Y%m%dT%H%M%SZ}.json")
    _write_record(record, {"schema": RECORD_SCHEMA, "workload": workload, "state": state})
    run_steps(iam, role, steps, description=f"Least-privilege policy of workload {workload}, learned by csm-collector")
    out.write(
        f"applied; the role's earlier policies are in {record}: csm-collector apply --restore {record} --execute\n"
    )
    return 0


def _earlier_parts(workload: str, granted: list[GrantedPolicy], desired: dict[str, Any]) -> list[str]:
    """Attached parts of an earlier apply of the workload (csm-<workload>-partN) no longer desired."""
    base = re.escape(policy_name(workload, 1, 1))
    pattern = re.compile(rf"managed:arn:[^:]+:iam::\d{{12}}:policy/{base}(-part\d+)?")
    return [g.source.split(":", 1)[1] for g in granted if pattern.fullmatch(g.source) and g.source[8:] not in desired]


def _replaced(
    observed: Observed, granted: list[GrantedPolicy], desired: dict[str, Any], universe: ActionUniverse
) -> list[str]:
    """Attached managed policies the learned policy replaces: they grant some action the workload used, and
    the learned policy grants every one of those (detaching them takes away nothing the workload used). A
    policy granting nothing it used stays: it may serve what no SDK call shows (e.g. Lambda's own logging).
    The learned policy's own parts are never among them."""
    new = allowed_actions([GrantedPolicy(arn, doc) for arn, doc in desired.items()], universe)
    used = {universe.canonical(a) for a in observed.actions}
    replaced = []
    for policy in granted:
        arn = policy.source.removeprefix("managed:")
        used_of_it = allowed_actions([policy], universe) & used
        if policy.source.startswith("managed:") and arn not in desired and used_of_it and used_of_it <= new:
            replaced.append(arn)
    return replaced


def _diff(
    granted: list[GrantedPolicy],
    steps: list[Step],
    desired: dict[str, Any],
    universe: ActionUniverse,
    observed: Observed,
) -> dict[str, list[str]]:
    detached = {f"managed:{s.target}" for s in steps if s.kind == "detach"}
    kept = [g for g in granted if g.source not in detached and g.source[8:] not in desired]
    after_policies = kept + [GrantedPolicy(f"managed:{arn}", doc) for arn, doc in desired.items()]
    before, after = allowed_actions(granted, universe), allowed_actions(after_policies, universe)
    used = {universe.canonical(a) for a in observed.actions}
    return {"gains": sorted(after - before), "loses": sorted(before - after), "missing": sorted(used - after)}


def _print_plan(out: TextIO, role: str, workload: str, steps: list[Step], diff: dict[str, list[str]]) -> None:
    out.write(f"apply workload {workload!r} to role {role!r}:\n")
    out.writelines(f"  - {step.describe()}\n" for step in steps)
    for kind, label in (("gains", "the role gains"), ("loses", "the role loses"), ("missing", "still missing")):
        actions = diff[kind]
        listed = ", ".join(actions[:LISTED]) + (
            f", ... and {len(actions) - LISTED} more" if len(actions) > LISTED else ""
        )
        out.write(f"{label} {len(actions)} actions" + (f": {listed}\n" if actions else "\n"))


def _write_record(path: Path, record: dict[str, Any]) -> None:
    if path.exists():
        raise BadInput(f"{path} exists: it may be the record of an earlier apply; choose another --record")
    try:
        atomic_write(path, dumps_pretty(record))
    except OSError as error:
        raise Failure(f"cannot write the restore record {path}: {error.strerror or error}") from error


def _restore(iam: Any, args: ApplyOptions, out: TextIO) -> int:
    recorded = _read_record(args.restore or Path())
    role = str(recorded["role"])
    current = role_state(iam, role, list(recorded["managed"]))
    steps = plan_restore(current, recorded)
    out.write(f"restore role {role!r} from {args.restore}:\n")
    out.writelines(f"  - {step.describe()}\n" for step in steps)
    if not steps:
        out.write("nothing to change\n")
    elif not args.execute:
        out.write("dry run: nothing changed (--execute to restore)\n")
    else:
        run_steps(iam, role, steps)
        out.write("restored\n")
    return 0


def _read_record(path: Path) -> dict[str, Any]:
    try:
        record = json_document(read_limited(path), str(path))
    except OSError as error:
        raise BadInput(f"cannot read the restore record {path}: {getattr(error, 'strerror', None) or error}") from error
    state = record.get("state") if isinstance(record, dict) else None
    if not isinstance(state, dict) or record.get("schema") != RECORD_SCHEMA or not _is_state(state):
        raise BadInput(f"{path} is not a restore record of csm-collector apply")
    return state


def _is_state(state: dict[str, Any]) -> bool:
    return (
        isinstance(state.get("role"), str)
        and isinstance(state.get("inline"), dict)
        and isinstance(state.get("attached"), list)
        and isinstance(state.get("managed"), dict)
    )
