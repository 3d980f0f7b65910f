"""Fail fast at start when publishing is asked for but cannot work: no usable credentials, or a bucket
that does not exist or cannot be reached. Two cheap calls the collector's own role may make (the
publishing policy of stacks/publishing.py): `sts:GetCallerIdentity`, which needs no permission, and
`s3:HeadBucket` (allowed by `s3:ListBucket` on the results bucket). Each failure is one line, exit 1."""

from __future__ import annotations

import logging
from typing import Any

from ..aws import calling
from ..core.publish_plan import PublishTargets

log = logging.getLogger("csm_collector")


def check_publishing(clients: dict[str, Any], targets: PublishTargets) -> None:
    """Raises a command error (errors.py) saying why publishing to `targets` cannot work."""
    with calling("publishing: checking the AWS credentials (sts:GetCallerIdentity)"):
        identity = clients["sts"].get_caller_identity()
    if targets.bucket:
        with calling(f"publishing: S3 bucket {targets.bucket!r}"):
            clients["s3"].head_bucket(Bucket=targets.bucket)
    where = [f"s3://{targets.bucket}/{targets.prefix}"] if targets.bucket else []
    where += [f"SSM {targets.ssm_prefix}/"] if targets.ssm_prefix else []
    log.info("publishing to %s as %s", " and ".join(where), identity.get("Arn", "an unnamed principal"))
