"""The destination guard's `server_connect` (sources.proxy.guard) on mitmproxy's own connection objects:
resolve once and pin (no DNS rebinding), put the name back once connected, refuse when it cannot decide."""

from __future__ import annotations

import asyncio
import logging

import pytest
from mitmproxy.connection import Server
from mitmproxy.proxy.server_hooks import ServerConnectionHookData
from mitmproxy.test.tflow import tclient_conn, tflow

from collector_runtime.sources.proxy.calls import ProxyCounters
from collector_runtime.sources.proxy.destinations import DestinationPolicy
from collector_runtime.sources.proxy.guard import DestinationGuard


class Rebinding:
    """A resolver whose answers change at every lookup, as a hostile DNS server's would (TTL 0)."""

    def __init__(self, *answers: list[str]) -> None:
        self.answers = list(answers)
        self.lookups = 0

    async def __call__(self, host: str, port: int) -> list[str]:
        self.lookups += 1
        return self.answers.pop(0)


def server_connect(guard: DestinationGuard, host: str, port: int) -> Server:
    server = Server(address=(host, port))
    asyncio.run(guard.server_connect(ServerConnectionHookData(server=server, client=tclient_conn())))
    return server


def test_the_connection_is_pinned_to_the_address_that_was_checked() -> None:
    resolver = Rebinding(["93.184.215.14"], ["127.0.0.1"])
    guard = DestinationGuard(DestinationPolicy(), ProxyCounters(), resolver)
    server = server_connect(guard, "rebinding.example", 443)
    assert server.error is None and server.address == ("93.184.215.14", 443) and resolver.lookups == 1
    guard.server_connected(ServerConnectionHookData(server=server, client=tclient_conn()))
    assert server.address == ("rebinding.example", 443)  # mitmproxy reuses connections by address


def test_the_first_allowed_address_is_used_and_a_name_with_none_is_refused(caplog: pytest.LogCaptureFixture) -> None:
    counters = ProxyCounters()
    resolver = Rebinding(["127.0.0.1", "151.101.2.132"], ["::1", "10.0.0.1"])
    guard = DestinationGuard(DestinationPolicy(), counters, resolver)
    assert server_connect(guard, "mixed.example", 443).address == ("151.101.2.132", 443)
    refused = server_connect(guard, "internal.example", 443)
    assert refused.error is not None and "loopback address ::1" in refused.error
    assert counters.destinations_refused == 1
    assert [r.getMessage() for r in caplog.records if "refused" in r.getMessage()] == [
        "proxy: refused 'internal.example:443': loopback address ::1 (allow it with --allow-destination; "
        "logged once per destination)"
    ]


def test_an_aws_host_may_resolve_to_a_vpc_endpoint_but_not_to_the_metadata_service() -> None:
    guard = DestinationGuard(DestinationPolicy(), ProxyCounters(), Rebinding(["10.0.3.7"], ["169.254.169.254"]))
    assert server_connect(guard, "sts.eu-west-1.amazonaws.com", 443).address == ("10.0.3.7", 443)
    assert server_connect(guard, "ec2.eu-west-1.amazonaws.com", 443).error is not None


def test_a_name_that_does_not_resolve_is_not_a_refusal() -> None:
    async def unresolvable(host: str, port: int) -> list[str]:
        raise OSError("Name or service not known")

    counters = ProxyCounters()
    server = server_connect(DestinationGuard(DestinationPolicy(), counters, unresolvable), "nowhere.example", 443)
    assert server.error == "cannot resolve nowhere.example: Name or service not known"
    assert counters.destinations_refused == 0


def test_a_guard_that_fails_refuses(caplog: pytest.LogCaptureFixture) -> None:
    async def broken(host: str, port: int) -> list[str]:
        raise RuntimeError("bug")

    counters = ProxyCounters()
    with caplog.at_level(logging.WARNING):
        server = server_connect(DestinationGuard(DestinationPolicy(), counters, broken), "x.example", 443)
    assert server.error is not None and "cannot check it (RuntimeError)" in server.error
    assert counters.internal_errors == 1 and counters.destinations_refused == 1


def test_a_refused_request_gets_a_403_before_anything_is_dialled() -> None:
    counters = ProxyCounters()
    guard = DestinationGuard(DestinationPolicy(), counters, Rebinding())
    flow = tflow()
    flow.request.host, flow.request.port = "169.254.169.254", 80
    guard.requestheaders(flow)
    assert flow.response is not None and flow.response.status_code == 403
    assert b"metadata address 169.254.169.254" in (flow.response.content or b"")
    assert counters.destinations_refused == 1
