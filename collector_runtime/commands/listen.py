"""`csm-collector listen`: the UDP collector with its live view, publisher and archive, and the OTLP/HTTP
receiver (`--otlp-port`, see listen_otlp.py)."""

from __future__ import annotations

import gc
import logging
import signal
from pathlib import Path
from typing import TextIO

from ..aws import aws_clients
from ..collector import CollectorService
from ..core.mapping import ActionMap
from ..data import load_action_map
from ..errors import StartupError
from ..loop_watch import StopWatchdog
from ..outputs.archive import ArchiveOptions, ArchiveWriter, pending_files, salvage_archive_parts
from ..outputs.live_view import LiveView
from ..outputs.publish_check import check_publishing
from ..outputs.publisher import Publisher
from ..outputs.state_file import restore_state
from ..settings import CollectorOptions, ListenOptions
from ..sources.csm.source import CsmSource
from ..sources.csm.udp import UdpListener
from ..sources.source_filter import SourceFilter
from .alerts_setup import attach_alerts
from .listen_otlp import require_otlp, start_otlp_receiver
from .startup import started_collector

log = logging.getLogger("csm_collector")


def run(options: ListenOptions, out: TextIO) -> int:
    options = started_collector(options)
    if options.otlp.enabled:
        require_otlp()  # before anything starts: without the otlp extra, cli names it
    try:
        listener = UdpListener(options.host, options.port, receive_buffer=options.receive_buffer)
    except OSError as error:
        log.error("cannot listen on %s:%s/udp: %s", options.host, options.port, error.strerror or error)
        return 1
    action_map = load_action_map()
    service = build_service(options, out, action_map, listener=listener, source_filter=build_source_filter(options))
    prepare_to_serve(service, options)
    if options.otlp.enabled and not start_otlp_receiver(options, service, action_map):
        listener.close()
        return 1
    host, port = listener.address
    log.info(
        "listening on %s:%d/udp, writing to %s every %gs", host, port, options.output.output_dir, options.flush_interval
    )
    _log_receive_buffer(listener, options.receive_buffer)
    return service.run()


def build_service(
    options: CollectorOptions,
    out: TextIO,
    action_map: ActionMap,
    *,
    listener: UdpListener | None = None,
    source_filter: SourceFilter | None = None,
) -> CollectorService:
    """The collector with its live view, publisher, archive and (with a UDP listener) source filter."""
    publisher = build_publisher(options)
    service = CollectorService(
        options,
        action_map,
        sources=[CsmSource(listener, source_filter)] if listener is not None else [],
        view=None if options.quiet else LiveView(out, is_tty=out.isatty(), explain=options.output.explain),
        publisher=publisher,
        archive=build_archive(options, publisher),
    )
    attach_alerts(service, options, action_map)
    return service


def prepare_to_serve(service: CollectorService, options: CollectorOptions) -> None:
    """Restore the saved state, serve metrics, install the signal handlers: the steps before `run`."""
    targets = options.publish_targets
    s3 = service.publisher.s3 if service.publisher else None
    if restore_state(service.restore, options.output.output_dir, s3=s3, bucket=targets.bucket, key=targets.state_key):
        log.info(
            "state: restored %d workloads (%d calls)", len(service.aggregator.workloads), service.aggregator.stats.calls
        )
        service.resume()
    if options.metrics_port is not None:
        _serve_metrics(service, options.metrics_host, options.metrics_port)
    gc.freeze()  # the mapping data and restored state live for the whole run: keep them out of every collection
    _install_signals(service)


def _serve_metrics(service: CollectorService, host: str, port: int) -> None:
    from ..outputs.metrics import serve_metrics  # here: http.server (with email and ssl) is ~8 MiB resident

    try:
        serve_metrics(host, port, service.metrics_snapshot)
    except OSError as error:  # the port is taken, the address is not this machine's
        raise StartupError(f"cannot serve metrics on {host}:{port}/tcp: {error.strerror or error}") from error


def _log_receive_buffer(listener: UdpListener, requested: int) -> None:
    granted, usable = listener.granted_buffer, listener.usable_buffer
    doubled = " (the kernel doubles the size it sets, for its bookkeeping)" if granted != usable else ""
    log.info("receive buffer: %d bytes requested, %d set, reported as %d%s", requested, usable, granted, doubled)
    if usable < requested:
        log.warning(
            "the receive buffer is capped at %d bytes (net.core.rmem_max): raise it (sysctl -w net.core.rmem_max=%d) "
            "or give the collector CAP_NET_ADMIN, or bursts may be dropped by the kernel",
            usable,
            requested,
        )


def build_source_filter(options: ListenOptions) -> SourceFilter | None:
    if options.allow_from is None and options.rate_limit is None:
        return None
    return SourceFilter(allow=options.allow_from, rate=options.rate_limit)


def build_publisher(options: CollectorOptions) -> Publisher | None:
    targets = options.publish_targets
    if not targets.enabled:
        return None
    services = [name for name, on in (("s3", targets.bucket), ("ssm", targets.ssm_prefix)) if on]
    clients = aws_clients(options.region, [*services, "sts"])
    check_publishing(clients, targets)  # fail fast: no credentials, no such bucket, or it cannot be reached
    return Publisher(targets, s3_client=clients.get("s3"), ssm_client=clients.get("ssm"), ssm_rate=options.ssm_rate)


def build_archive(options: CollectorOptions, publisher: Publisher | None) -> ArchiveWriter | None:
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
    """SIGTERM and SIGINT stop the loop; if it is stuck, the watchdog writes the files and ends the process
    (see loop_watch.py). SIGHUP asks for a flush."""
    watchdog = StopWatchdog(service.flush)
    service.after_final_write(watchdog.loop_stopped)

    def stop(name: str) -> None:
        service.request_stop(name)
        watchdog.stop_requested()

    signal.set_wakeup_fd(service.wake_fd(), warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, lambda *_: stop("SIGTERM"))
    signal.signal(signal.SIGINT, lambda *_: stop("SIGINT"))
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: service.request_flush("SIGHUP"))
