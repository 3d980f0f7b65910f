"""`csm-collector proxy`: the HTTPS proxy for every SDK (and Terraform), with a collector behind it.

One `CollectorService` without a UDP listener: the proxy's thread hands each intercepted call to it with
`submit`, so output files, live view, publishing, archive, metrics, state, SIGHUP and SIGTERM are those of
`listen` (its builders, reused). On SIGTERM the proxy stops first, then the calls it recorded are drained
and written.
"""

from __future__ import annotations

import logging
import socket
from pathlib import Path
from typing import TYPE_CHECKING, TextIO

from ..collector import CollectorService
from ..contract import CA_CERTIFICATE_OBJECT
from ..core.mapping import ActionMap
from ..core.records import ObservedCall
from ..data import load_action_map
from ..settings import CollectorOptions, ProxyOptions, StartupError
from .interrupts import interrupts_deferred
from .listen import build_service, prepare_to_serve
from .startup import started_collector

if TYPE_CHECKING:  # mitmproxy is optional (the proxy extra): imported when the proxy starts
    from ..sources.proxy.destinations import DestinationPolicy
    from ..sources.proxy.source import ProxySource

log = logging.getLogger("csm_collector")


def run(options: ProxyOptions, out: TextIO) -> int:
    settings = started_collector(options.collector)
    with interrupts_deferred():  # mitmproxy loads; without it, cli names the extra to install
        from ..sources.proxy.ca import KEY_FILES, CaError, prepare_ca
        from ..sources.proxy.ca_check import check_ca_key, check_certificate
        from ..sources.proxy.server import ProxyStartError

    try:
        if options.ca_secret:
            _sync_ca_secret(options)
        ca = prepare_ca(options.ca_dir)
    except CaError as error:
        log.error("%s", error)
        return 1
    check_certificate(ca.certificate, "the proxy CA certificate")
    check_ca_key(ca.directory / KEY_FILES[0])
    check_can_listen(options.host, options.port)
    action_map = load_action_map()
    service = build_service(settings, out, action_map, listener=None)
    source = _proxy_source(options, action_map)
    try:
        service.add_source(source)
    except ProxyStartError as error:
        log.error("%s", error)
        return 1
    assert source.address is not None
    host, port = source.address
    prepare_to_serve(service, settings)
    _publish_certificate(service, settings, ca.certificate)
    log.info(
        "proxy listening on %s:%d/tcp (CA %s%s), writing to %s every %gs",
        host,
        port,
        ca.certificate,
        ", generated" if ca.created else "",
        settings.output.output_dir,
        settings.flush_interval,
    )
    return service.run()


def check_can_listen(host: str, port: int) -> None:
    """StartupError (one line) when the proxy's port is taken or the address is not this machine's, before
    mitmproxy tries and logs its own lines about it. Bound as asyncio binds (SO_REUSEADDR): what passes
    here, mitmproxy can bind too."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            raise StartupError(f"cannot listen on {host}:{port}/tcp: {error.strerror or error}") from error


def _publish_certificate(service: CollectorService, settings: CollectorOptions, certificate: Path) -> None:
    """With --s3-bucket, the CA certificate (public) goes beside the results, where clients fetch it."""
    from ..aws import AWS_ERRORS

    targets = settings.publish_targets
    if service.publisher is None or service.publisher.s3 is None or targets.bucket is None:
        return
    key = f"{targets.prefix}{CA_CERTIFICATE_OBJECT}"
    try:
        service.publisher.s3.put_object(Bucket=targets.bucket, Key=key, Body=certificate.read_bytes())
    except AWS_ERRORS as error:
        log.warning("cannot publish the CA certificate to s3://%s/%s: %s", targets.bucket, key, error)
        return
    log.info("CA certificate published to s3://%s/%s", targets.bucket, key)


def _sync_ca_secret(options: ProxyOptions) -> None:
    from ..aws import AWS_ERRORS, aws_clients
    from ..sources.proxy.ca import CaError
    from ..sources.proxy.ca_secret import sync_ca

    assert options.ca_secret is not None
    client = aws_clients(options.collector.region, ["secretsmanager"], purpose="--ca-secret")["secretsmanager"]
    try:
        how = sync_ca(options.ca_dir, options.ca_secret, client)
    except AWS_ERRORS as error:
        raise CaError(f"--ca-secret {options.ca_secret}: {error}") from error
    log.info(
        "proxy CA %s secret %s", "loaded from" if how == "loaded" else "generated and stored in", options.ca_secret
    )


def _proxy_source(options: ProxyOptions, action_map: ActionMap) -> ProxySource:
    from ..sources.proxy.addon import AwsInterceptor
    from ..sources.proxy.calls import CallRecorder
    from ..sources.proxy.guard import DestinationGuard
    from ..sources.proxy.hosts import HostMatcher
    from ..sources.proxy.server import ProxyServer, ProxyServerSettings
    from ..sources.proxy.service_models import ServiceModels
    from ..sources.proxy.source import ProxySource

    recorder = CallRecorder(ServiceModels(), action_map)
    hosts = HostMatcher(options.intercept_hosts)
    interceptor = AwsInterceptor(recorder, hosts, _not_started, upstream=options.upstream)
    guard = DestinationGuard(destination_policy(options), recorder.counters)
    settings = ProxyServerSettings(options.host, options.port, options.ca_dir, hosts.regexes)
    return ProxySource(ProxyServer(settings, guard, interceptor), interceptor, recorder)


def destination_policy(options: ProxyOptions) -> DestinationPolicy:
    """What clients may reach besides AWS and public HTTPS: --allow-destination, --upstream, --intercept-host."""
    from ..sources.proxy.destinations import DestinationPolicy, allowed_destination

    allowed = [allowed_destination(text) for text in options.allowed_destinations]
    if options.upstream is not None:
        allowed.append(allowed_destination(f"[{options.upstream.host}]:{options.upstream.port}"))
    return DestinationPolicy(options.intercept_hosts, allowed)


def _not_started(calls: list[ObservedCall]) -> None:
    raise RuntimeError("the proxy source is not started")  # replaced by the loop's intake at start
