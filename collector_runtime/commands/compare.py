"""`csm-collector compare`: excessive and missing permissions of a role, for people and for CI."""

from __future__ import annotations

import argparse
import json
import logging
from typing import Any, TextIO

from ..aws import aws_clients
from ..compare_sources import (
    SourceError,
    granted_by_role,
    load_json_file,
    observed_from_output,
    observed_from_ssm,
    read_s3_json,
    role_name_of_function,
)
from ..core.compare import ActionUniverse, GrantedPolicy, Observed
from ..core.compare import compare as compare_policies
from ..core.compare import markdown as compare_markdown
from ..mapping_data import load_action_map

log = logging.getLogger("csm_collector")
try:  # AWS errors are reported, not raised, when boto3 is there
    from botocore.exceptions import BotoCoreError, ClientError

    CLIENT_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
except ImportError:  # pragma: no cover - without boto3 no AWS call is made
    CLIENT_ERRORS = ()
INPUT_ERRORS: tuple[type[Exception], ...] = (SourceError, *CLIENT_ERRORS)


def cmd_compare(args: argparse.Namespace, out: TextIO) -> int:
    needs = {
        "iam": bool(args.role or args.function),
        "lambda": bool(args.function),
        "ssm": bool(args.observed_ssm),
        "s3": bool(args.observed_s3 or args.observed_ssm),
    }
    clients = (
        aws_clients(args.region, [name for name, needed in needs.items() if needed]) if any(needs.values()) else {}
    )
    try:
        observed, title = _observed_policy(args, clients)
        granted, notes = _granted_policies(args, clients)
    except INPUT_ERRORS as error:
        log.error("%s", error)
        return 2
    universe = ActionUniverse(load_action_map().all_actions())
    result = compare_policies(Observed.from_policy(observed), granted, universe, extra_notes=notes)
    text = json.dumps(result, indent=2) + "\n" if args.format == "json" else compare_markdown(result, title)
    if args.report_file:
        args.report_file.write_text(text)
    else:
        out.write(text)
    failing = [kind for kind in args.fail_on if result[kind]]
    if failing:
        log.error("compare: %s findings (--fail-on %s)", " and ".join(failing), ",".join(args.fail_on))
    return 1 if failing else 0


def _observed_policy(args: argparse.Namespace, clients: dict[str, Any]) -> tuple[dict[str, Any], str]:
    if args.workload is not None:
        return observed_from_output(args.output_dir, args.workload), f"workload {args.workload}"
    if args.observed is not None:
        return load_json_file(args.observed), str(args.observed)
    if args.observed_s3:
        return read_s3_json(clients["s3"], args.observed_s3), args.observed_s3
    return observed_from_ssm(clients["ssm"], clients["s3"], args.observed_ssm), args.observed_ssm


def _granted_policies(args: argparse.Namespace, clients: dict[str, Any]) -> tuple[list[GrantedPolicy], list[str]]:
    if args.policy_file:
        return [GrantedPolicy(f"file:{p}", load_json_file(p)) for p in args.policy_file], [
            "only the given policy files are evaluated (no permissions boundary, SCPs or resource policies)"
        ]
    role = args.role or role_name_of_function(clients["lambda"], args.function)
    return granted_by_role(clients["iam"], role)
