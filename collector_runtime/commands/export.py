"""`csm-collector export`: a workload's learned policy (or every workload's) as code to commit: plain
JSON, CDK Python or TypeScript, CloudFormation YAML or JSON, Terraform; the learning account, region and
partition written as the target's own tokens (see core/export)."""

from __future__ import annotations

import hashlib
import logging
from collections import Counter
from pathlib import Path
from typing import Any, TextIO

from ..aws import aws_clients
from ..core.export import FORMATS, ExportPolicy, render
from ..core.export.naming import snake
from ..core.names import workload_file_stem
from ..errors import BadInput, ConfigError, Failure
from ..outputs.atomic import atomic_write
from ..settings import ExportOptions
from .learned_inputs import LearnedPolicies

log = logging.getLogger("csm_collector")


def run(args: ExportOptions, out: TextIO) -> int:
    clients = _clients(args)
    learned = LearnedPolicies(args.learned, clients.get("s3"))
    workloads = learned.workloads()
    if args.out is None and len(workloads) > 1:
        raise ConfigError(f"export: {len(workloads)} workloads: pass --out DIR (one file each), or --workload")
    several = args.out is not None and (args.learned.workload is None or args.out.is_dir())
    names = _file_names(workloads, FORMATS[args.format][0])
    for workload in workloads:
        text = _rendered(args.format, learned.policy(workload))
        if args.out is None:
            out.write(text)
            continue
        target = args.out / names[workload] if several else args.out
        _write(target, text)
        log.info("export: workload %r -> %s", workload, target)
    return 0


def _rendered(format_name: str, policy: ExportPolicy) -> str:
    try:
        return render(format_name, policy)
    except ValueError as error:  # a statement the format cannot express
        raise BadInput(f"workload {policy.workload!r}: {error}") from error


def _clients(args: ExportOptions) -> dict[str, Any]:
    if args.learned.s3_bucket is None:
        return {}
    return aws_clients(args.learned.region, ["s3"], purpose="reading learned policies from S3 (AWS access)")


def _file_names(workloads: list[str], suffix: str) -> dict[str, str]:
    """Each workload's file name: its file stem; for Python an importable module name (snake case, with
    a hash of the ClientId where two workloads would share one)."""
    if suffix != ".py":
        return {w: workload_file_stem(w) + suffix for w in workloads}
    shared = Counter(snake(w) for w in workloads)
    return {w: snake(w) + (f"_{_digest(w)}" if shared[snake(w)] > 1 else "") + suffix for w in workloads}


def _digest(workload: str) -> str:
    return hashlib.sha256(workload.encode("utf-8", "surrogatepass")).hexdigest()[:8]


def _write(target: Path, text: str) -> None:
    try:
        atomic_write(target, text, durable=False)
    except OSError as error:
        raise Failure(f"cannot write {target}: {error.strerror or error}") from error
