"""`csm-collector compare`: excessive and missing permissions of a role, for people and for CI."""

from __future__ import annotations

import logging
from typing import Any, TextIO

from ..aws import aws_clients
from ..core.compare import ActionUniverse, GrantedPolicy, Observed
from ..core.compare import compare as compare_policies
from ..core.compare import markdown as compare_markdown
from ..core.export.tokens import Learned, resolve, tokenize
from ..core.json_codec import dumps_pretty
from ..data import load_action_map
from ..errors import Failure
from ..settings import CompareOptions
from .compare_inputs import (
    granted_by_role,
    load_json_file,
    observed_from_output,
    observed_from_ssm,
    read_s3_json,
    role_name_of_function,
)

log = logging.getLogger("csm_collector")


def run(args: CompareOptions, out: TextIO) -> int:
    """Inputs that are no policy documents are bad input (exit 2); an AWS error, e.g. a role that does not
    exist, is a failure (exit 1) naming what it was about (see compare_inputs)."""
    clients = _clients(args)
    observed, title = _observed_policy(args, clients)
    if args.account_map:  # learned in one account, compared in another: the suggested policy names the target
        observed = resolve(tokenize(observed, Learned(frozenset(), partition=""), dict(args.account_map)), {})
    granted, notes = _granted_policies(args, clients)
    universe = ActionUniverse(load_action_map().all_actions())
    result = compare_policies(Observed.from_policy(observed), granted, universe, extra_notes=notes)
    failing = [kind for kind in args.fail_on if result[kind]]
    _write(dumps_pretty(result) if args.format == "json" else compare_markdown(result, title), args, out)
    if failing:
        log.error("compare: %s findings (--fail-on %s)", " and ".join(failing), ",".join(args.fail_on))
    return 1 if failing else 0


def _clients(args: CompareOptions) -> dict[str, Any]:
    needs = {
        "iam": bool(args.role or args.function),
        "lambda": bool(args.function),
        "ssm": bool(args.observed_ssm),
        "s3": bool(args.observed_s3 or args.observed_ssm),
    }
    services = [name for name, needed in needs.items() if needed]
    purpose = "comparing with a role, a function or a policy in S3/SSM (AWS access)"
    return aws_clients(args.region, services, purpose=purpose) if services else {}


def _write(text: str, args: CompareOptions, out: TextIO) -> None:
    if not args.report_file:
        out.write(text)
        return
    try:
        args.report_file.write_text(text)
    except OSError as error:
        raise Failure(f"cannot write the report to {args.report_file}: {error.strerror or error}") from error


def _observed_policy(args: CompareOptions, clients: dict[str, Any]) -> tuple[dict[str, Any], str]:
    if args.workload is not None:
        return observed_from_output(args.output_dir, args.workload), f"workload {args.workload}"
    if args.observed is not None:
        return load_json_file(args.observed), str(args.observed)
    if args.observed_s3:
        return read_s3_json(clients["s3"], args.observed_s3), args.observed_s3
    name = args.observed_ssm or ""  # the grammar requires one of the four
    return observed_from_ssm(clients["ssm"], clients["s3"], name), name


def _granted_policies(args: CompareOptions, clients: dict[str, Any]) -> tuple[list[GrantedPolicy], list[str]]:
    if args.policy_file:
        return [GrantedPolicy(f"file:{p}", load_json_file(p)) for p in args.policy_file], [
            "only the given policy files are evaluated (no permissions boundary, SCPs or resource policies)"
        ]
    role = args.role or role_name_of_function(clients["lambda"], args.function or "")
    return granted_by_role(clients["iam"], role)
