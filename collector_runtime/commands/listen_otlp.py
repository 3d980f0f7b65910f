"""listen's OTLP/HTTP traces receiver (`--otlp-port`): starting it beside the UDP listener (its flags are `listen`'s,
in settings/commands/listen.py)."""

from __future__ import annotations

import logging

from ..collector import CollectorService
from ..core.mapping import ActionMap
from ..core.records import ObservedCall
from ..settings import ListenOptions
from ..sources.source_filter import SourceFilter

log = logging.getLogger("csm_collector")


def require_otlp() -> None:
    """ImportError when the otlp extra (opentelemetry-proto) is not installed."""
    from ..sources.otlp import receiver  # noqa: F401


def start_otlp_receiver(options: ListenOptions, service: CollectorService, action_map: ActionMap) -> bool:
    """The OTLP/HTTP receiver in its thread, handing records to the service's loop (stopped before the final
    drain); False when its port cannot be bound or its decode workers cannot start."""
    from ..sources.otlp.decode_workers import WorkerEnded
    from ..sources.otlp.receiver import OtlpReceiver  # needs the otlp extra (opentelemetry-proto)
    from ..sources.otlp.source import OtlpSource

    otlp = options.otlp
    allowed = SourceFilter(allow=options.allow_from).accepts if options.allow_from else None
    try:
        receiver = OtlpReceiver(
            otlp.host,
            otlp.port or 0,
            action_map,
            _not_started,
            max_request_bytes=otlp.max_request_bytes,
            workload_attribute=otlp.workload_attribute,
            allowed=allowed,
            decode_workers=otlp.decode_workers,
        )
    except OSError as error:
        log.error("cannot listen on %s:%s/tcp (OTLP): %s", otlp.host, otlp.port, error.strerror or error)
        return False
    try:
        service.add_source(OtlpSource(receiver))
    except WorkerEnded as error:
        log.error("cannot start the OTLP receiver's decode workers: %s", error)
        return False
    host, port = receiver.address
    log.info("receiving OTLP/HTTP traces on http://%s:%d/v1/traces", host, port)
    return True


def _not_started(calls: list[ObservedCall]) -> None:
    raise RuntimeError("the OTLP source is not started")  # replaced by the loop's intake at start
