"""Where `export` and `apply` read learned policies: an output directory or the results bucket."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path

from ...contract import DEFAULT_S3_PREFIX
from ...core.policy_size import MANAGED_POLICY_MAX_CHARS
from ..errors import ConfigError
from ..flags import Group, flag, group
from ..values import normalise_s3_prefix, positive_int
from .aws import ACCOUNT_MAP, region_flag


@dataclass(frozen=True)
class LearnedInput:
    """Where `export` and `apply` read learned policies: an output directory, or the results bucket."""

    workload: str | None = None  # None: every workload (export)
    output_dir: Path = Path("csm-output")
    s3_bucket: str | None = None
    s3_prefix: str = DEFAULT_S3_PREFIX  # normalised: "" or ending in "/" (as `listen` publishes)
    region: str | None = None
    account_map: tuple[tuple[str, str], ...] = ()  # learned account -> target account (--account-map)
    max_policy_chars: int = MANAGED_POLICY_MAX_CHARS


DEFAULTS = LearnedInput()


def learned_flags(*, workload_help: str) -> Group:
    return group(
        "learned policies",
        flag("--workload", help=workload_help),
        flag(
            "--output-dir", type=Path, default=DEFAULTS.output_dir, help="the collector's output (default: %(default)s)"
        ),
        flag("--s3-bucket", help="read the results bucket instead of --output-dir"),
        flag("--s3-prefix", default=DEFAULTS.s3_prefix, help="key prefix in the bucket (default: %(default)s)"),
        flag(
            "--max-policy-chars",
            type=positive_int,
            default=DEFAULTS.max_policy_chars,
            help="split into managed policies under this size (default: %(default)s, IAM's limit)",
        ),
        ACCOUNT_MAP,
        region_flag(),
    )


def learned_input(args: argparse.Namespace) -> LearnedInput:
    mapping = dict(args.account_map or ())
    if len(mapping) != len(args.account_map or ()):
        raise ConfigError("--account-map: a learned account is mapped twice")
    return LearnedInput(
        workload=args.workload,
        output_dir=args.output_dir,
        s3_bucket=args.s3_bucket or None,
        s3_prefix=normalise_s3_prefix(args.s3_prefix),
        region=args.region or None,
        account_map=tuple(sorted(mapping.items())),
        max_policy_chars=args.max_policy_chars,
    )
