"""`proxy`: an HTTPS proxy that records the AWS calls of any SDK or tool, with a collector behind it."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from ...contract import DEFAULT_HOST, DEFAULT_PROXY_PORT
from ...sources.proxy.hosts import Upstream
from ..flags import CommandSpec, flag, group
from ..groups.collector import CollectorOptions, collector_flags, collector_options
from ..values import destination, host_pattern, ip_address, port_number, upstream_url

DEFAULT_CA_DIR = Path("~/.csm-collector/proxy-ca")  # the proxy's CA (generated there on first use)


@dataclass(frozen=True)
class ProxyOptions:
    """`proxy`: the HTTPS proxy, with the collector behind it (`collector`)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PROXY_PORT
    ca_dir: Path = DEFAULT_CA_DIR  # expanded when the options are built
    intercept_hosts: tuple[str, ...] = ()  # host globs intercepted besides AWS's (sources.proxy.hosts.AWS_HOSTS)
    upstream: Upstream | None = None  # send intercepted requests here instead (moto, LocalStack)
    allowed_destinations: tuple[str, ...] = ()  # --allow-destination (sources.proxy.destinations)
    ca_secret: str | None = None  # a Secrets Manager secret that keeps the CA (the deployed proxy)
    collector: CollectorOptions = field(default_factory=CollectorOptions)


DEFAULTS = ProxyOptions()

PROXY_FLAGS = group(
    None,
    flag("--host", type=ip_address, default=DEFAULTS.host, help="address to listen on (default: %(default)s)"),
    flag("--port", type=port_number, default=DEFAULTS.port, help="TCP port (default: %(default)s)"),
    flag(
        "--ca-dir", default=str(DEFAULTS.ca_dir), help="the proxy's CA, generated on first run (default: %(default)s)"
    ),
    flag(
        "--ca-secret",
        metavar="SECRET",
        help="keep the CA in this Secrets Manager secret: loaded at start, or generated and stored there "
        "(needs boto3; --region)",
    ),
    flag(
        "--intercept-host",
        action="append",
        type=host_pattern,
        metavar="PATTERN",
        help="also intercept hosts like this ('*.example.internal', 'localhost.localstack.cloud:4566'; "
        "repeatable); AWS API hosts always are",
    ),
    flag(
        "--upstream",
        type=upstream_url,
        metavar="URL",
        help="send intercepted requests to this endpoint instead, keeping their Host header (moto, LocalStack)",
    ),
    flag(
        "--allow-destination",
        action="append",
        type=destination,
        metavar="DEST",
        help="also let clients reach this HOST[:PORT], address or network ('10.0.0.0/8', '[fd00::1]:8443'; "
        "repeatable); otherwise only AWS API hosts and other hosts' port 443 at public addresses",
    ),
)


def proxy_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ProxyOptions:
    return ProxyOptions(
        host=args.host,
        port=args.port,
        ca_dir=Path(args.ca_dir).expanduser(),
        intercept_hosts=tuple(args.intercept_host or ()),
        upstream=args.upstream,
        allowed_destinations=tuple(args.allow_destination or ()),
        ca_secret=args.ca_secret or None,
        collector=collector_options(args),
    )


SPEC = CommandSpec(
    name="proxy",
    help="an HTTPS proxy that records the AWS calls of any SDK or tool",
    flags=(PROXY_FLAGS, *collector_flags()),
    build=proxy_options,
    runner="proxy.run",
)
