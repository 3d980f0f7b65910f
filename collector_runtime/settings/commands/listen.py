"""`listen`: CSM datagrams over UDP (and, with --otlp-port, OTLP/HTTP traces) into policies."""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field

from ...contract import (
    DEFAULT_HOST,
    DEFAULT_OTLP_HOST,
    DEFAULT_OTLP_MAX_REQUEST_BYTES,
    DEFAULT_OTLP_PORT,
    DEFAULT_PORT,
    DEFAULT_RECEIVE_BUFFER,
)
from ..flags import CommandSpec, flag, group
from ..groups.collector import CollectorOptions, collector_flags, collector_options, extended
from ..values import (
    Network,
    attribute_name,
    ip_address,
    non_negative_int,
    parse_networks,
    port_number,
    positive_float,
    positive_int,
    socket_buffer,
)

MAX_OTLP_DECODE_WORKERS = 64  # each a process of ~32 MiB, started at once: more is a typo, not a machine


def decode_worker_count(text: str) -> int:
    value = non_negative_int(text)
    if value > MAX_OTLP_DECODE_WORKERS:
        raise argparse.ArgumentTypeError(f"{text} is more than {MAX_OTLP_DECODE_WORKERS} decode workers")
    return value


@dataclass(frozen=True)
class OtlpOptions:
    """The OTLP/HTTP traces receiver of `listen` (off unless a port is given)."""

    port: int | None = None  # None: no receiver; contract.DEFAULT_OTLP_PORT (4318) is OTLP/HTTP's port
    host: str = DEFAULT_OTLP_HOST
    workload_attribute: str | None = None  # a resource attribute naming the workload before service.name
    max_request_bytes: int = DEFAULT_OTLP_MAX_REQUEST_BYTES
    decode_workers: int = 1  # processes decoding bodies beside the collector's; 0: in the receiver's threads

    @property
    def enabled(self) -> bool:
        return self.port is not None


@dataclass(frozen=True, kw_only=True)
class ListenOptions(CollectorOptions):
    """A collector with a UDP socket for CSM datagrams, its access rules, and the OTLP receiver."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    receive_buffer: int = DEFAULT_RECEIVE_BUFFER
    allow_from: tuple[Network, ...] | None = None  # None: any source
    rate_limit: float | None = None  # datagrams per second per source; None: unlimited
    otlp: OtlpOptions = field(default_factory=OtlpOptions)


DEFAULTS = ListenOptions()

UDP_FLAGS = group(
    None,
    flag(
        "--host",
        type=ip_address,
        default=DEFAULTS.host,
        help="address to listen on; 0.0.0.0 for other machines (default: %(default)s)",
    ),
    flag("--port", type=port_number, default=DEFAULTS.port, help="UDP port (default: %(default)s)"),
    flag(
        "--receive-buffer",
        type=socket_buffer,
        default=DEFAULTS.receive_buffer,
        help="socket receive buffer to request, bytes (default: %(default)s)",
    ),
    group(
        "access",
        flag("--allow-from", metavar="CIDR,...", help="only accept datagrams from these networks (default: any)"),
        flag(
            "--rate-limit",
            type=positive_float,
            metavar="N",
            help="at most N datagrams/s per source address, bursts of N (default: no limit)",
        ),
    ),
)

OTLP_FLAGS = group(
    "OpenTelemetry traces (OTLP/HTTP, POST /v1/traces)",
    flag(
        "--otlp-port",
        type=port_number,
        help=f"receive OTLP/HTTP traces on this TCP port ({DEFAULT_OTLP_PORT} is OTLP/HTTP's; default: off)",
    ),
    flag(
        "--otlp-host",
        type=ip_address,
        default=DEFAULTS.otlp.host,
        help="address for --otlp-port (default: %(default)s)",
    ),
    flag(
        "--otlp-workload-attribute",
        metavar="ATTRIBUTE",
        help="resource attribute naming the workload, before service.name and faas.name (default: none)",
    ),
    flag(
        "--otlp-max-request-bytes",
        type=positive_int,
        default=DEFAULTS.otlp.max_request_bytes,
        help="largest request body, received and decompressed; larger ones get 413 (default: %(default)s)",
    ),
    flag(
        "--otlp-decode-workers",
        type=decode_worker_count,
        metavar="N",
        default=DEFAULTS.otlp.decode_workers,
        help="processes that decode request bodies beside the collector's own, each with a core's worth of intake; "
        "0 decodes in the collector's process; at most 64 (default: %(default)s)",
    ),
)


def listen_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ListenOptions:
    return extended(
        collector_options(args),
        ListenOptions,
        host=args.host,
        port=args.port,
        receive_buffer=args.receive_buffer,
        allow_from=parse_networks(args.allow_from) if args.allow_from else None,
        rate_limit=args.rate_limit,
        otlp=OtlpOptions(
            port=args.otlp_port,
            host=args.otlp_host,
            workload_attribute=attribute_name(args.otlp_workload_attribute),
            max_request_bytes=args.otlp_max_request_bytes,
            decode_workers=args.otlp_decode_workers,
        ),
    )


SPEC = CommandSpec(
    name="listen",
    help="listen for CSM datagrams and keep policies up to date",
    flags=(UDP_FLAGS, *collector_flags(OTLP_FLAGS)),
    build=listen_options,
    runner="listen.run",
)
