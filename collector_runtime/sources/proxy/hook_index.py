"""mitmproxy's addon manager, with each event sent only to the addons that handle it.

mitmproxy's `AddonManager.trigger_event` visits every loaded addon for every event: a generator walk of the
addon and its children, a `getattr` for the hook, a `safecall` context, a coroutine per addon, whether the
addon has the hook or not. A proxied request raises ~14 events (each flow hook is followed by `update`),
and with ten addons that dispatch was about a quarter of the proxy thread's CPU per request. This manager
looks the handlers of an event up once (per chain of addons: adding or removing one starts afresh) and calls
just those, in the same order, each top-level addon in its own `safecall`, `AddonHalt` ending the event, as
mitmproxy does. It replaces a new Master's manager before any addon is added (`master.addons = ...`).
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

from mitmproxy import addonmanager, exceptions, hooks

Handlers = tuple[tuple[Callable[..., Any], ...], ...]  # per top-level addon (that has any), its callables


class HookIndexedAddons(addonmanager.AddonManager):
    def __init__(self, master: Any) -> None:
        super().__init__(master)  # type: ignore[no-untyped-call]
        self._handlers: dict[str, Handlers] = {}

    def add(self, *addons: Any) -> None:
        self._handlers = {}
        super().add(*addons)  # type: ignore[no-untyped-call]

    def remove(self, addon: Any) -> None:
        self._handlers = {}
        super().remove(addon)  # type: ignore[no-untyped-call]

    def clear(self) -> None:
        self._handlers = {}
        super().clear()  # type: ignore[no-untyped-call]

    def handlers(self, event: hooks.Hook) -> Handlers:
        found = self._handlers.get(event.name)
        if found is None:
            per_addon = (tuple(func for _, func in self._iter_hooks(top, event)) for top in self.chain)
            found = self._handlers[event.name] = tuple(funcs for funcs in per_addon if funcs)
        return found

    async def trigger_event(self, event: hooks.Hook) -> None:
        for funcs in self.handlers(event):
            try:
                with addonmanager.safecall():
                    for func in funcs:
                        result = func(*event.args())
                        if result is not None and inspect.isawaitable(result):
                            await result
            except exceptions.AddonHalt:
                return
