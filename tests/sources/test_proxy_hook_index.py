"""The proxy's addon manager sends an event only to the addons that handle it, as mitmproxy would otherwise."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

import pytest
from mitmproxy import exceptions, master, options
from mitmproxy.proxy import server_hooks

from collector_runtime.sources.proxy.hook_index import HookIndexedAddons
from collector_runtime.sources.proxy.server import ProxyServer, ProxyServerSettings

pytestmark = pytest.mark.timeout(30)


class Handler:
    def __init__(self, name: str, seen: list[str], *, halt: bool = False, fail: bool = False) -> None:
        self.name, self.seen, self.halt, self.fail = name, seen, halt, fail

    def client_connected(self, client: object) -> None:
        self.seen.append(self.name)
        if self.fail:
            raise ValueError("a failing addon")
        if self.halt:
            raise exceptions.AddonHalt()


class AsyncHandler(Handler):
    async def client_connected(self, client: object) -> None:  # type: ignore[override]
        await asyncio.sleep(0)
        self.seen.append(self.name)


class Bystander:
    """No hook of its own: counts how often it is asked for one."""

    def __init__(self) -> None:
        self.asked: list[str] = []

    def __getattr__(self, name: str) -> Any:
        if not name.startswith("_"):
            self.asked.append(name)
        raise AttributeError(name)


@pytest.fixture
def loop() -> Iterator[asyncio.AbstractEventLoop]:
    loop = asyncio.new_event_loop()
    yield loop
    loop.close()


def manager(loop: asyncio.AbstractEventLoop) -> HookIndexedAddons:
    mitm = master.Master(options.Options(), event_loop=loop)
    mitm.addons = HookIndexedAddons(mitm)
    return mitm.addons


def connected(loop: asyncio.AbstractEventLoop, addons: HookIndexedAddons) -> None:
    loop.run_until_complete(addons.trigger_event(server_hooks.ClientConnectedHook(object())))  # type: ignore[arg-type]


def test_an_event_is_looked_up_once_and_reaches_its_handlers_in_order(loop: asyncio.AbstractEventLoop) -> None:
    seen: list[str] = []
    bystander = Bystander()
    addons = manager(loop)
    addons.add(Handler("first", seen), bystander, AsyncHandler("second", seen))
    for _ in range(3):
        connected(loop, addons)
    assert seen == ["first", "second"] * 3
    assert bystander.asked.count("client_connected") == 1  # mitmproxy's own manager: once per event


def test_halt_failure_and_changes_of_the_chain_behave_as_in_mitmproxy(loop: asyncio.AbstractEventLoop) -> None:
    seen: list[str] = []
    addons = manager(loop)
    failing, halting = Handler("failing", seen, fail=True), Handler("halting", seen, halt=True)
    addons.add(failing, halting, Handler("after a halt", seen))
    connected(loop, addons)
    assert seen == ["failing", "halting"]  # a failure is logged and the next addon runs; a halt ends the event
    seen.clear()
    addons.remove(halting)
    addons.add(Handler("added later", seen))
    connected(loop, addons)
    assert seen == ["failing", "after a halt", "added later"]


def test_the_proxy_server_uses_it(loop: asyncio.AbstractEventLoop, tmp_path: Any) -> None:
    settings = ProxyServerSettings("127.0.0.1", 0, tmp_path, [])
    guard, interceptor = Handler("guard", []), AsyncHandler("interceptor", [])
    server = ProxyServer(settings, guard, interceptor)  # type: ignore[arg-type]
    server._loop = loop
    captured: list[object] = []

    async def run(self: master.Master) -> None:
        captured.append(self.addons)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(master.Master, "run", run)
        patch.setattr(server, "_options", dict)
        loop.run_until_complete(server._main())
    assert isinstance(captured[0], HookIndexedAddons)
