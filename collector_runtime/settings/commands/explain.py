"""`explain`: how a call maps to IAM actions, or what an output directory learned."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ..errors import ConfigError
from ..flags import CommandSpec, flag


@dataclass(frozen=True)
class ExplainOptions:
    service: str | None = None
    api: str | None = None
    output_dir: Path | None = None
    workload: str | None = None


def explain_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ExplainOptions:
    if args.output_dir is None and not (args.service and args.api):
        raise ConfigError("explain needs SERVICE and API (e.g. explain S3 ListBuckets), or --output-dir DIR")
    return ExplainOptions(service=args.service, api=args.api, output_dir=args.output_dir, workload=args.workload)


SPEC = CommandSpec(
    name="explain",
    help="show how a call maps to IAM actions, or what an output directory learned",
    flags=(
        flag("service", nargs="?", help="CSM Service (botocore serviceId), e.g. S3 or 'CloudWatch Logs'"),
        flag("api", nargs="?", help="CSM Api (operation name), e.g. ListBuckets"),
        flag("--output-dir", type=Path, help="explain the calls recorded in this output directory"),
        flag("--workload", help="only this workload (ClientId)"),
    ),
    build=explain_options,
    runner="explain.run",
)
