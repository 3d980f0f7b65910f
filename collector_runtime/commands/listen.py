"""`csm-collector listen`: the UDP collector with its live view, publisher and archive."""

from __future__ import annotations

import gc
import logging
import re
import signal
import socket
from pathlib import Path
from typing import TextIO

from ..access import SourceFilter, parse_networks
from ..archive import ArchiveOptions, ArchiveWriter, pending_files
from ..aws import aws_clients
from ..collector import CollectorService
from ..listener import UdpListener
from ..live import LiveView
from ..mapping_data import load_action_map
from ..metrics import serve_metrics
from ..publish import Publisher, PublishTargets, normalise_s3_prefix, normalise_ssm_prefix
from ..restart import restore_state, salvage_archive_parts
from ..settings import Settings

log = logging.getLogger("csm_collector")


def cmd_listen(settings: Settings, out: TextIO) -> int:
    try:
        listener = UdpListener(settings.host, settings.port, receive_buffer=settings.receive_buffer)
    except OSError as error:
        log.error("cannot listen on %s:%s/udp: %s", settings.host, settings.port, error.strerror or error)
        return 1
    view = None if settings.quiet else LiveView(out, is_tty=out.isatty(), explain=settings.explain)
    source_filter = build_source_filter(settings)
    publisher = build_publisher(settings)
    archive = build_archive(settings, publisher)
    service = CollectorService(
        settings,
        load_action_map(),
        listener=listener,
        view=view,
        publisher=publisher,
        archive=archive,
        source_filter=source_filter,
    )
    if restore_state(
        service.aggregator,
        settings.output_dir,
        s3=publisher.s3 if publisher else None,
        bucket=settings.s3_bucket,
        prefix=normalise_s3_prefix(settings.s3_prefix),
    ):
        service.resume()
    if settings.metrics_port is not None:
        serve_metrics(settings.metrics_host, settings.metrics_port, service.metrics_snapshot)
    gc.freeze()  # the mapping data and restored state live for the whole run: keep them out of every collection
    _install_signals(service)
    host, port = service.address
    log.info(
        "listening on %s:%d/udp (receive buffer %d bytes granted), writing to %s every %gs",
        host,
        port,
        listener.granted_buffer,
        settings.output_dir,
        settings.flush_interval,
    )
    return service.run()


def build_source_filter(settings: Settings) -> SourceFilter | None:
    if settings.allow_from is None and settings.rate_limit is None:
        return None
    allow = parse_networks(settings.allow_from) if settings.allow_from else None
    return SourceFilter(allow=allow, rate=settings.rate_limit)


def build_publisher(settings: Settings) -> Publisher | None:
    targets = PublishTargets(
        bucket=settings.s3_bucket,
        prefix=normalise_s3_prefix(settings.s3_prefix),
        ssm_prefix=normalise_ssm_prefix(settings.ssm_prefix) if settings.ssm_prefix else None,
    )
    if not targets.enabled:
        return None
    services = [name for name, on in (("s3", targets.bucket), ("ssm", targets.ssm_prefix)) if on]
    clients = aws_clients(settings.region, services)
    return Publisher(targets, s3_client=clients.get("s3"), ssm_client=clients.get("ssm"), ssm_rate=settings.ssm_rate)


def build_archive(settings: Settings, publisher: Publisher | None) -> ArchiveWriter | None:
    if not settings.archive:
        return None
    directory = settings.archive_directory
    collector_id = re.sub(r"[^A-Za-z0-9_.-]", "_", settings.collector_id or socket.gethostname()) or "collector"

    def rolled(path: Path) -> None:
        if publisher is not None:
            publisher.add_archive(path, path.relative_to(directory).as_posix())

    salvage_archive_parts(directory)  # a file a crash cut short keeps its complete lines
    for leftover in pending_files(directory):  # rolled before a restart, not uploaded yet
        rolled(leftover)
    options = ArchiveOptions(directory, collector_id, settings.archive_max_bytes, settings.archive_max_seconds)
    return ArchiveWriter(options, on_rolled=rolled)


def _install_signals(service: CollectorService) -> None:
    signal.set_wakeup_fd(service.wake_fd(), warn_on_full_buffer=False)
    signal.signal(signal.SIGTERM, lambda *_: service.request_stop())
    signal.signal(signal.SIGINT, lambda *_: service.request_stop())
    if hasattr(signal, "SIGHUP"):
        signal.signal(signal.SIGHUP, lambda *_: service.request_flush())
