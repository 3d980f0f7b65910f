"""`proxy-env`: the export lines that point every SDK at the proxy."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from ...contract import DEFAULT_HOST, DEFAULT_PROXY_PORT
from ..flags import CommandSpec, flag
from ..values import client_port, host_name, workload_name
from .proxy import DEFAULT_CA_DIR


@dataclass(frozen=True)
class ProxyEnvOptions:
    """`proxy-env`: the client set-up for a proxy (host: the address clients reach it at)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PROXY_PORT
    ca_dir: Path = DEFAULT_CA_DIR
    workload: str | None = None
    ca_certificate: Path | None = None  # a remote proxy's CA certificate, instead of ca_dir's own CA
    aws_ca_bundle: str = "proxy-ca"  # AWS_CA_BUNDLE: the proxy's CA alone, or "combined" (the system CAs too)


DEFAULTS = ProxyEnvOptions()
AWS_CA_BUNDLES = ("proxy-ca", "combined")


def proxy_env_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ProxyEnvOptions:
    ca_dir = Path(args.ca_dir).expanduser()
    certificate = Path(args.ca_certificate).expanduser() if args.ca_certificate else None
    return ProxyEnvOptions(
        host=args.host,
        port=args.port,
        ca_dir=ca_dir,
        workload=args.workload,
        ca_certificate=certificate,
        aws_ca_bundle=args.aws_ca_bundle,
    )


SPEC = CommandSpec(
    name="proxy-env",
    help="print the export lines that point every SDK at the proxy",
    flags=(
        flag(
            "--host", type=host_name, default=DEFAULTS.host, help="where clients reach the proxy (default: %(default)s)"
        ),
        flag("--port", type=client_port, default=DEFAULTS.port, help="its TCP port (default: %(default)s)"),
        flag("--ca-dir", default=str(DEFAULTS.ca_dir), help="the proxy's CA directory (default: %(default)s)"),
        flag("--workload", type=workload_name, help="the workload name the proxy records these clients under"),
        flag(
            "--ca-certificate",
            metavar="FILE",
            help="a remote proxy's CA certificate (e.g. the deployed proxy's, from S3): trusted instead of "
            "--ca-dir's own CA; the bundle is written beside it",
        ),
        flag(
            "--aws-ca-bundle",
            choices=AWS_CA_BUNDLES,
            default=DEFAULTS.aws_ca_bundle,
            help="what AWS_CA_BUNDLE names: the proxy's CA alone (AWS SDKs reach only the AWS hosts it "
            "intercepts), or the system CAs too, for an SDK endpoint it does not intercept (default: %(default)s)",
        ),
    ),
    build=proxy_env_options,
    runner="proxy_env.run",
)
