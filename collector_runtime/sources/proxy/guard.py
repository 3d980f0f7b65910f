"""The mitmproxy addon that keeps the proxy from being an open relay (the policy: `destinations`).

A CONNECT or a plain-HTTP request to a destination refused by name, port or literal address gets a 403
before anything is dialled. Every server connection mitmproxy is about to open passes `server_connect`: a
name is resolved once, here, and the connection is pinned to the first address the policy allows (a
name that resolves elsewhere the next time cannot move it); none allowed, the connection is killed before
it is opened (mitmproxy answers 502, or closes the tunnel). Once connected, the address goes back to the
name, because mitmproxy reuses a connection for the next request only if the addresses are equal.
Refusals are counted (`destinations_refused`) and logged once per destination. A failure in here refuses.
"""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Awaitable, Callable

from mitmproxy import http
from mitmproxy.proxy import server_hooks

from collector_runtime.sources.proxy.calls import ProxyCounters
from collector_runtime.sources.proxy.destinations import DestinationPolicy, Verdict, parse_ip

log = logging.getLogger("csm_collector")
Resolve = Callable[[str, int], Awaitable[list[str]]]  # host, port -> its addresses, in the order to try
RESOLVE_TIMEOUT = 10.0
MAX_LOGGED = 10_000  # distinct refused destinations logged; past it, counted only
HINT = "allow it with --allow-destination"


async def resolve_host(host: str, port: int) -> list[str]:
    loop = asyncio.get_running_loop()
    found = await asyncio.wait_for(loop.getaddrinfo(host, port, type=socket.SOCK_STREAM), RESOLVE_TIMEOUT)
    return [str(info[4][0]) for info in found]


class _Unresolved(Exception):
    """The name did not resolve: mitmproxy's own connection error, not a refusal."""


class DestinationGuard:
    def __init__(self, policy: DestinationPolicy, counters: ProxyCounters, resolve: Resolve = resolve_host) -> None:
        self.policy = policy
        self.counters = counters
        self.resolve = resolve
        self._logged: set[str] = set()
        self._names: dict[str, tuple[str, int]] = {}  # server connection id -> the address it was asked for

    def http_connect(self, flow: http.HTTPFlow) -> None:
        self._check_request(flow)

    def requestheaders(self, flow: http.HTTPFlow) -> None:
        if flow.response is None:
            self._check_request(flow)

    async def server_connect(self, data: server_hooks.ServerConnectionHookData) -> None:
        server = data.server
        if server.error or not server.address:
            return
        host, port = str(server.address[0]), int(server.address[1])
        try:
            address, reason = await self._destination(host, port)
        except _Unresolved as error:
            server.error = f"cannot resolve {host}: {error}"
            return
        except Exception as error:  # fail closed: a guard that cannot decide refuses
            address, reason = None, f"cannot check it ({type(error).__name__})"
            self.counters.internal_errors += 1
        if reason is not None:
            self._refused(host, port, reason)
            server.error = f"csm-collector proxy refused {host}:{port}: {reason} ({HINT})"
        elif address is not None and address != host:
            self._names[server.id] = server.address
            server.address = (address, port)

    def server_connected(self, data: server_hooks.ServerConnectionHookData) -> None:
        name = self._names.pop(data.server.id, None)
        if name is not None:
            # mitmproxy forbids changing the address of an open connection (server.address's setter); the
            # name goes back as it was before pinning, only so that the next request can reuse the connection.
            data.server.__dict__["address"] = name

    def server_connect_error(self, data: server_hooks.ServerConnectionHookData) -> None:
        name = self._names.pop(data.server.id, None)
        if name is not None:
            data.server.address = name

    async def _destination(self, host: str, port: int) -> tuple[str | None, str | None]:
        """(the address to connect to, or None to connect as asked; why it is refused, or None)."""
        verdict = self.policy.check(host, port)
        if verdict.action != "resolve":
            return None, verdict.reason or None
        try:
            addresses = await self.resolve(host, port)
        except (OSError, TimeoutError) as error:
            raise _Unresolved(str(error) or "timed out") from error
        first_reason = "no address"
        for address in addresses:
            ip = parse_ip(address)
            reason = self.policy.check_address(host, port, ip) if ip is not None else "not an address"
            if reason is None:
                return address, None
            first_reason = reason if first_reason == "no address" else first_reason
        return None, first_reason

    def _check_request(self, flow: http.HTTPFlow) -> None:
        """403 for a destination refused before resolving (port, literal address)."""
        request = flow.request
        try:
            verdict = self.policy.check(request.host, request.port)
        except Exception as error:  # fail closed
            self.counters.internal_errors += 1
            verdict = Verdict("refuse", f"cannot check it ({type(error).__name__})")
        if verdict.action == "refuse":
            self._refused(request.host, request.port, verdict.reason)
            body = f"csm-collector proxy: {request.host}:{request.port} refused: {verdict.reason} ({HINT})\n"
            flow.response = http.Response.make(403, body, {"Content-Type": "text/plain; charset=utf-8"})

    def _refused(self, host: str, port: int, reason: str) -> None:
        self.counters.destinations_refused += 1
        destination = f"{host[:255]}:{port}"
        if destination in self._logged or len(self._logged) > MAX_LOGGED:
            return
        self._logged.add(destination)
        more = "; further refused destinations are counted only" if len(self._logged) > MAX_LOGGED else ""
        log.warning("proxy: refused %r: %s (%s; logged once per destination%s)", destination, reason, HINT, more)
