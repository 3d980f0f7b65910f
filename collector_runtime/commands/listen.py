"""`csm-collector listen`: the UDP collector with its live view, publisher and archive, and the OTLP/HTTP
receiver (`--otlp-port`)."""

from __future__ import annotations

import argparse
import gc
import logging
import signal
from pathlib import Path
from typing import TextIO

from ..aws import aws_clients
from ..collector import CollectorService
from ..contract import DEFAULT_OTLP_PORT
from ..core.mapping import ActionMap
from ..data import load_action_map
from ..outputs.archive import ArchiveOptions, ArchiveWriter, pending_files, salvage_archive_parts
from ..outputs.live_view import LiveView
from ..outputs.metrics import serve_metrics
from ..outputs.publisher import Publisher
from ..outputs.state_file import restore_state
from ..settings import ListenOptions
from ..settings.options import LISTEN
from ..settings.values import ip_address, port_number, positive_float, positive_int
from ..sources.source_filter import SourceFilter
from ..sources.udp import UdpListener
from .grammar import Subcommands, add_output_options, add_publishing_options

log = logging.getLogger("csm_collector")


def register(commands: Subcommands) -> None:
    listen = commands.add_parser("listen", help="listen for CSM datagrams and keep policies up to date")
    listen.add_argument(
        "--host",
        type=ip_address,
        default=LISTEN.host,
        help="address to listen on; 0.0.0.0 for other machines (default: %(default)s)",
    )
    listen.add_argument("--port", type=port_number, default=LISTEN.port, help="UDP port (default: %(default)s)")
    listen.add_argument(
        "--flush-interval",
        type=positive_float,
        default=LISTEN.flush_interval,
        help="seconds between writes (default: %(default)s)",
    )
    listen.add_argument(
        "--receive-buffer",
        type=positive_int,
        default=LISTEN.receive_buffer,
        help="socket receive buffer to request, bytes (default: %(default)s)",
    )
    listen.add_argument("--quiet", action="store_true", help="no live view")
    _add_guard_options(listen)
    _add_otlp_options(listen)
    add_output_options(listen, LISTEN.output)
    add_publishing_options(listen)


def _add_otlp_options(listen: argparse.ArgumentParser) -> None:
    otlp = listen.add_argument_group("OpenTelemetry traces (OTLP/HTTP, POST /v1/traces)")
    otlp.add_argument(
        "--otlp-port",
        type=port_number,
        help=f"receive OTLP/HTTP traces on this TCP port ({DEFAULT_OTLP_PORT} is OTLP/HTTP's; default: off)",
    )
    otlp.add_argument(
        "--otlp-host", type=ip_address, default=LISTEN.otlp.host, help="address for --otlp-port (default: %(default)s)"
    )
    otlp.add_argument(
        "--otlp-workload-attribute",
        metavar="ATTRIBUTE",
        help="resource attribute naming the workload, before service.name and faas.name (default: none)",
    )
    otlp.add_argument(
        "--otlp-max-request-bytes",
        type=positive_int,
        default=LISTEN.otlp.max_request_bytes,
        help="largest request body, received and decompressed; larger ones get 413 (default: %(default)s)",
    )


def _add_guard_options(listen: argparse.ArgumentParser) -> None:
    guard = listen.add_argument_group("access, limits and observability")
    guard.add_argument(
        "--allow-from", metavar="CIDR,...", help="only accept datagrams from these networks (default: any)"
    )
    guard.add_argument(
        "--rate-limit",
        type=positive_float,
        metavar="N",
        help="at most N datagrams/s per source address, bursts of N (default: no limit)",
    )
    limits = LISTEN.limits
    for flag, default, what in (
        ("--max-workloads", limits.max_workloads, "workloads (ClientIds) kept at most"),
        ("--max-calls-per-workload", limits.max_calls_per_workload, "distinct Service/Api pairs per workload"),
        ("--max-scopes-per-call", limits.max_scopes_per_call, "distinct region/account/resources per call"),
    ):
        guard.add_argument(
            flag,
            type=positive_int,
            default=default,
            help=f"{what} at most; further ones are dropped and counted (default: %(default)s)",
        )
    guard.add_argument(
        "--metrics-port", type=port_number, help="serve Prometheus /metrics and /health on this TCP port (default: off)"
    )
    guard.add_argument(
        "--metrics-host", default=LISTEN.metrics_host, help="address for --metrics-port (default: %(default)s)"
    )
    guard.add_argument(
        "--log-format", choices=("text", "json"), default=LISTEN.log_format, help="(default: %(default)s)"
    )


def run(options: ListenOptions, out: TextIO) -> int:
    try:
        listener = UdpListener(options.host, options.port, receive_buffer=options.receive_buffer)
    except OSError as error:
        log.error("cannot listen on %s:%s/udp: %s", options.host, options.port, error.strerror or error)
        return 1
    publisher = build_publisher(options)
    action_map = load_action_map()
    service = CollectorService(
        options,
        action_map,
        listener=listener,
        view=None if options.quiet else LiveView(out, is_tty=out.isatty(), explain=options.output.explain),
        publisher=publisher,
        archive=build_archive(options, publisher),
        source_filter=build_source_filter(options),
    )
    targets = options.publish_targets
    s3 = publisher.s3 if publisher else None
    if restore_state(
        service.pipeline.restore, options.output.output_dir, s3=s3, bucket=targets.bucket, key=targets.state_key
    ):
        log.info(
            "state: restored %d workloads (%d calls)", len(service.aggregator.workloads), service.aggregator.stats.calls
        )
        service.resume()
    if options.otlp.enabled and not start_otlp_receiver(options, service, action_map):
        listener.close()
        return 1
    if options.metrics_port is not None:
        serve_metrics(options.metrics_host, options.metrics_port, service.metrics_snapshot)
    gc.freeze()  # the mapping data and restored state live for the whole run: keep them out of every collection
    _install_signals(service)
    host, port = service.address
    log.info(
        "listening on %s:%d/udp (receive buffer %d bytes granted), writing to %s every %gs",
        host,
        port,
        listener.granted_buffer,
        options.output.output_dir,
        options.flush_interval,
    )
    return service.run()


def start_otlp_receiver(options: ListenOptions, service: CollectorService, action_map: ActionMap) -> bool:
    """The OTLP/HTTP receiver in its thread, handing records to the service's loop (stopped before the final
    drain); False when its port cannot be bound."""
    from ..sources.otlp.receiver import OtlpReceiver  # needs the otlp extra (opentelemetry-proto)

    otlp = options.otlp
    allowed = SourceFilter(allow=options.allow_from).accepts if options.allow_from else None
    try:
        receiver = OtlpReceiver(
            otlp.host,
            otlp.port or 0,
            action_map,
            service.submit,
            max_request_bytes=otlp.max_request_bytes,
            workload_attribute=otlp.workload_attribute,
            allowed=allowed,
            backlog=service.pending_batches,
        )
    except OSError as error:
        log.error("cannot listen on %s:%s/tcp (OTLP): %s", otlp.host, otlp.port, error.strerror or error)
        return False
    service.add_stats("otlp", receiver.counters.as_dict)
    service.on_stop(receiver.stop)
    receiver.start()
    host, port = receiver.address
    log.info("receiving OTLP/HTTP traces on http://%s:%d/v1/traces", host, port)
    return True


def build_source_filter(options: ListenOptions) -> SourceFilter | None:
    if options.allow_from is None and options.rate_limit is None:
        return None
    return SourceFilter(allow=options.allow_from, rate=options.rate_limit)


def build_publisher(options: ListenOptions) -> Publisher | None:
    targets = options.publish_targets
    if not targets.enabled:
        return None
    services = [name for name, on in (("s3", targets.bucket), ("ssm", targets.ssm_prefix)) if on]
    clients = aws_clients(options.region, services)
    return Publisher(targets, s3_client=clients.get("s3"), ssm_client=clients.get("ssm"), ssm_rate=options.ssm_rate)


def build_archive(options: ListenOptions, publisher: Publisher | None) -> ArchiveWriter | None:
    if not options.archive:
        return None
    directory = options.archive_directory

    def rolled(path: Path) -> None:
        if publisher is not None:
            publisher.add_archive(path, path.relative_to(directory).as_posix())

    salvage_archive_parts(directory)  # a file a crash cut short keeps its complete lines
    for leftover in pending_files(directory):  # rolled before a restart, not uploaded yet
        rolled(leftover)
    archive_options = ArchiveOptions(
        directory, options.collector_id or "collector", options.archive_max_bytes, options.archive_max_seconds
    )
    return ArchiveWriter(archive_options, on_rolled=rolled)


def _install_signals(service: CollectorService) -> None:
    signal.set_wakeup_fd(service.wake_fd(), warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, lambda *_: service.request_stop())
    signal.signal(signal.SIGINT, lambda *_: service.request_stop())
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: service.request_flush())
