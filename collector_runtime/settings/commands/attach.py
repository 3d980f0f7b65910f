"""`attach` and `detach`: point Lambda functions at a collector, and put them back."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass

from ...contract import DEFAULT_OTLP_PORT, DEFAULT_PORT
from ..flags import CommandSpec, flag, one_of
from ..groups.aws import region_flag
from ..values import client_port, host_name, layer_arn, normalise_ssm_prefix


@dataclass(frozen=True)
class AttachOptions:
    functions: tuple[str, ...] = ()
    host: str | None = None
    ssm_prefix: str | None = None
    port: int | None = None  # None: from SSM with --ssm-prefix, else DEFAULT_PORT (DEFAULT_OTLP_PORT with otlp)
    client_id: str | None = None
    dry_run: bool = False
    region: str | None = None
    otlp: bool = False  # the ADOT layer and OTEL_* variables instead of AWS_CSM_*
    layer_arn: str | None = None  # with otlp: this layer instead of the table's


@dataclass(frozen=True)
class DetachOptions:
    functions: tuple[str, ...] = ()
    dry_run: bool = False
    region: str | None = None


COMMON = (flag("--dry-run", action="store_true", help="show the changes without making them"), region_flag())


def attach_options(args: argparse.Namespace, environ: Mapping[str, str]) -> AttachOptions:
    return AttachOptions(
        functions=tuple(args.functions),
        host=args.host,
        ssm_prefix=normalise_ssm_prefix(args.ssm_prefix) if args.ssm_prefix else None,
        port=args.port,
        client_id=args.client_id,
        dry_run=args.dry_run,
        region=args.region or None,
        otlp=args.otlp,
        layer_arn=layer_arn(args.layer_arn, otlp=args.otlp),
    )


def detach_options(args: argparse.Namespace, environ: Mapping[str, str]) -> DetachOptions:
    return DetachOptions(functions=tuple(args.functions), dry_run=args.dry_run, region=args.region or None)


ATTACH = CommandSpec(
    name="attach",
    help="point Lambda functions at a collector (AWS_CSM_* variables)",
    flags=(
        flag("functions", nargs="+", metavar="FUNCTION", help="function names or ARNs"),
        one_of(
            flag("--host", type=host_name, help="the collector's address (IP or DNS name)"),
            flag("--ssm-prefix", help="read the address from <prefix>/collector/address (the CDK stack's)"),
        ),
        flag(
            "--port",
            type=client_port,
            help=f"UDP port, or with --otlp the OTLP/HTTP port (default: from SSM with --ssm-prefix, else "
            f"{DEFAULT_PORT} or {DEFAULT_OTLP_PORT})",
        ),
        flag(
            "--client-id",
            help="workload name for all of them: AWS_CSM_CLIENT_ID, or OTEL_SERVICE_NAME (default: each function name)",
        ),
        flag(
            "--otlp",
            action="store_true",
            help="Node.js, Python, Java: add the ADOT layer and OTEL_* variables exporting traces to the collector",
        ),
        flag("--layer-arn", help="with --otlp: this layer version instead of the table's ADOT layer"),
        *COMMON,
    ),
    build=attach_options,
    runner="attach.run_attach",
)

DETACH = CommandSpec(
    name="detach",
    help="restore the environment functions had before attach",
    flags=(flag("functions", nargs="+", metavar="FUNCTION"), *COMMON),
    build=detach_options,
    runner="attach.run_detach",
)
