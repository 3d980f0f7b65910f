"""The intercepting proxy as a `Source`: mitmproxy serves on its own thread; each AWS request it records
is submitted to the loop."""

from __future__ import annotations

from typing import Any

from ..source import Intake
from .addon import AwsInterceptor
from .calls import CallRecorder
from .server import ProxyServer


class ProxySource:
    name = "proxy"

    def __init__(self, server: ProxyServer, interceptor: AwsInterceptor, recorder: CallRecorder) -> None:
        self.server = server
        self.interceptor = interceptor
        self.recorder = recorder
        self.address: tuple[str, int] | None = None

    def start(self, intake: Intake) -> None:
        """Raises ProxyStartError when the proxy cannot start (its port taken...)."""
        self.interceptor.submit = intake.submit
        self.address = self.server.start()

    def stats(self) -> dict[str, Any]:
        counters = self.recorder.counters.as_dict()
        return {"records_received": counters["requests_intercepted"], "rejected": 0, **counters}

    def restore(self, saved: dict[str, Any]) -> None:
        self.recorder.counters.add(saved)

    def stop(self) -> None:
        self.server.stop()
