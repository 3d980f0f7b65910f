"""The OTLP receiver as a `Source`: it serves on its own thread and submits each request's records."""

from __future__ import annotations

from typing import Any

from ..source import Intake
from .receiver import OtlpReceiver


class OtlpSource:
    name = "otlp"

    def __init__(self, receiver: OtlpReceiver) -> None:
        self.receiver = receiver

    def start(self, intake: Intake) -> None:
        self.receiver.submit = intake.submit
        self.receiver.backlog = intake.backlog
        self.receiver.start()

    def stats(self) -> dict[str, Any]:
        counters = self.receiver.counters.as_dict()
        rejected = counters["spans_rejected"] + counters["requests_refused"]
        return {"records_received": counters["spans_received"], "rejected": rejected, **counters}

    def restore(self, saved: dict[str, Any]) -> None:
        self.receiver.counters.add(saved)

    def stop(self) -> None:
        self.receiver.stop()
