"""mitmproxy embedded: its `Master` on its own asyncio loop in a daemon thread, with `AwsInterceptor`.

The options that make it work here (see docs/proxy.md): `connection_strategy="lazy"` (no DNS and
no dial of the real host before a request is seen), `allow_hosts` anchored on `host:port` (every other
host is a plain TCP tunnel with its own certificate), the CA in `confdir`, bodies over
`STREAM_LARGE_BODIES` streamed (not held in memory; a JSON one is read as it passes, `body_skeleton`), and no
onboarding app (`http://mitm.it/` would be served by the proxy itself: its addon is not loaded). Only the
mitmproxy addons the proxy needs are loaded (`mitmproxy_addons`): the ~30 default ones (replay, scripts, HAR
export...) do nothing here; and each event goes only to the addons that handle it (`hook_index`: mitmproxy
visits every addon for every event, and every flow hook is followed by `update`). Then ours, in hook order:
the destination guard (refuses before the interceptor sees a flow), then the AWS interceptor.
mitmproxy's own log is kept at warnings, with query strings cut (a presigned URL carries a signature).
"""

from __future__ import annotations

import asyncio
import logging
import re
import threading
from pathlib import Path
from typing import Any, NamedTuple

from mitmproxy import ctx, master, options
from mitmproxy.addons import block, core, disable_h2c, next_layer, proxyserver, tlsconfig

from collector_runtime.sources.proxy.addon import AwsInterceptor
from collector_runtime.sources.proxy.certificates import SharedCertificates
from collector_runtime.sources.proxy.guard import DestinationGuard
from collector_runtime.sources.proxy.hook_index import HookIndexedAddons

STREAM_LARGE_BODIES = "4m"
START_TIMEOUT = 30.0
_QUERY = re.compile(r"\?[^\s'\"]*")


class ProxyServerSettings(NamedTuple):
    host: str
    port: int  # 0: any free port
    ca_dir: Path
    intercepted: list[str]  # allow_hosts regexes (hosts.intercepted_regexes)


class ProxyStartError(RuntimeError):
    """The proxy could not listen (port taken, address not local, ...)."""


class _RedactQueries(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = _QUERY.sub("?...", record.getMessage())
        record.args = ()
        return True


def quiet_mitmproxy_log() -> None:
    mitm = logging.getLogger("mitmproxy")
    mitm.setLevel(logging.WARNING)
    if not any(isinstance(f, _RedactQueries) for f in mitm.filters):
        mitm.addFilter(_RedactQueries())


class _Ready:
    """Tells the starting thread where the proxy listens, once mitmproxy has bound its servers."""

    def __init__(self) -> None:
        self.event = threading.Event()
        self.addresses: list[tuple[str, int]] = []

    def running(self) -> None:
        proxyserver: Any = ctx.master.addons.get("proxyserver")
        self.addresses = [(str(a[0]), int(a[1])) for a in proxyserver.listen_addrs()]
        self.event.set()


def mitmproxy_addons() -> list[object]:
    """mitmproxy's own addons that this proxy uses: options and their checks (core), the servers
    (proxyserver), which layer a connection gets from `allow_hosts` (next_layer), the certificates
    (tlsconfig), no clients from public addresses unless listening there on purpose (block, mitmproxy's
    `block_global`), and no h2c upgrades to plain-HTTP destinations (disable_h2c)."""
    return [
        core.Core(),
        block.Block(),
        disable_h2c.DisableH2C(),
        proxyserver.Proxyserver(),
        next_layer.NextLayer(),
        tlsconfig.TlsConfig(),
        SharedCertificates(),  # after tlsconfig: its store exists, and its hooks run first
    ]


class ProxyServer:
    def __init__(self, settings: ProxyServerSettings, guard: DestinationGuard, interceptor: AwsInterceptor) -> None:
        self.settings = settings
        self.guard = guard
        self.interceptor = interceptor
        self._loop = asyncio.new_event_loop()
        self._master: master.Master | None = None
        self._ready = _Ready()
        self._thread = threading.Thread(target=self._run, name="proxy", daemon=True)

    def start(self, timeout: float = START_TIMEOUT) -> tuple[str, int]:
        """Start serving; the address it listens on. ProxyStartError if it cannot listen."""
        quiet_mitmproxy_log()
        self._thread.start()
        if not self._ready.event.wait(timeout) or not self._ready.addresses:
            self.stop()
            where = f"{self.settings.host}:{self.settings.port}/tcp"
            raise ProxyStartError(f"cannot listen on {where} (see the error above)")
        return self._ready.addresses[0]

    def stop(self) -> None:
        if self._master is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._master.shutdown)
        if self._thread.is_alive():
            self._thread.join(timeout=10)

    def _run(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        finally:
            self._ready.event.set()

    async def _main(self) -> None:
        self._master = master.Master(options.Options(), event_loop=self._loop)
        self._master.addons = HookIndexedAddons(self._master)  # each event only to the addons that handle it
        self._master.addons.add(*mitmproxy_addons())
        self._master.addons.add(self.guard, self.interceptor, self._ready)
        self._master.options.update(**self._options())  # addon options exist only once the addons are added
        await self._master.run()

    def _options(self) -> dict[str, object]:
        settings = self.settings
        return {
            "listen_host": settings.host,
            "listen_port": settings.port,
            "confdir": str(settings.ca_dir),
            "connection_strategy": "lazy",
            "allow_hosts": settings.intercepted,
            "stream_large_bodies": STREAM_LARGE_BODIES,
        }
