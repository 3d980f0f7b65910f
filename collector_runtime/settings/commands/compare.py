"""`compare`: what a role grants but the workload never used (excessive), and what it used but lacks."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..flags import CommandSpec, flag, one_of
from ..groups.aws import ACCOUNT_MAP, region_flag


@dataclass(frozen=True)
class CompareOptions:
    workload: str | None = None
    observed: Path | None = None
    observed_s3: str | None = None
    observed_ssm: str | None = None
    output_dir: Path = Path("csm-output")
    role: str | None = None
    function: str | None = None
    policy_file: tuple[Path, ...] = ()
    format: str = "markdown"
    report_file: Path | None = None
    fail_on: tuple[str, ...] = ()
    region: str | None = None
    account_map: tuple[tuple[str, str], ...] = ()  # learned account -> the role's account (--account-map)


DEFAULTS = CompareOptions()


def compare_options(args: argparse.Namespace, environ: Mapping[str, str]) -> CompareOptions:
    return CompareOptions(
        workload=args.workload,
        observed=args.observed,
        observed_s3=args.observed_s3,
        observed_ssm=args.observed_ssm,
        output_dir=args.output_dir,
        role=args.role,
        function=args.function,
        policy_file=tuple(args.policy_file or ()),
        format=args.format,
        report_file=args.report_file,
        fail_on=tuple(args.fail_on),
        region=args.region or None,
        account_map=tuple(args.account_map or ()),
    )


SPEC = CommandSpec(
    name="compare",
    help="what a role grants but the workload never used (excessive), and what it used but lacks",
    flags=(
        one_of(
            flag("--workload", help="the workload (ClientId) whose policy in --output-dir is compared"),
            flag("--observed", type=Path, help="an observed policy file"),
            flag("--observed-s3", metavar="S3_URI", help="an observed policy in S3 (s3://bucket/key)"),
            flag("--observed-ssm", metavar="NAME", help="an observed policy in an SSM parameter"),
        ),
        flag("--output-dir", type=Path, default=DEFAULTS.output_dir, help="with --workload (default: %(default)s)"),
        one_of(
            flag("--role", help="an IAM role: its inline and attached managed policies"),
            flag("--function", help="a Lambda function: its execution role"),
            flag("--policy-file", type=Path, action="append", help="granted policy file (repeatable; offline)"),
        ),
        flag("--format", choices=("json", "markdown"), default=DEFAULTS.format, help="(default: %(default)s)"),
        flag("--report-file", type=Path, help="write the report here instead of standard output"),
        flag(
            "--fail-on",
            action="append",
            choices=("excessive", "missing"),
            default=[],
            help="exit 1 if there are findings of this kind (repeatable), e.g. in CI",
        ),
        ACCOUNT_MAP,
        region_flag(),
    ),
    build=compare_options,
    runner="compare.run",
)
