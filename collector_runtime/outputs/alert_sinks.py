"""Where alerts go: `alerts.jsonl` in the output directory, a webhook (HTTP POST), an EventBridge bus.

Each sink's `send` takes a batch of events (the envelope of `event_envelope`) and returns those it could
not deliver (raising when it delivered none); the delivery thread retries those (alert_delivery.py).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Protocol
from urllib.parse import urlsplit

from ..contract import EVENT_SOURCE

ALERTS_FILE = "alerts.jsonl"
PUT_EVENTS_BATCH = 10  # EventBridge's entries per PutEvents call at most
WEBHOOK_TIMEOUT = 5.0
Event = dict[str, Any]


class DeliveryError(Exception):
    """A batch could not be delivered (the message names the target, never a secret in its URL)."""


class Sink(Protocol):
    name: str

    def send(self, events: list[Event]) -> list[Event]: ...


def event_envelope(detail: dict[str, Any], time_iso: str) -> Event:
    """The event as the webhook and alerts.jsonl carry it, in the shape EventBridge delivers it to a rule."""
    return {"version": "0", "source": EVENT_SOURCE, "detail-type": detail["kind"], "time": time_iso, "detail": detail}


class FileSink:
    name = "file"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, events: list[Event]) -> list[Event]:
        lines = "".join(json.dumps(event, sort_keys=True) + "\n" for event in events)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            with self.path.open("a", encoding="utf-8") as file:
                file.write(lines)
        except OSError as error:
            raise DeliveryError(f"cannot append to {self.path}: {error.strerror or error}") from error
        return []


class WebhookSink:
    """One POST of the event's JSON per event; a 2xx answer delivers it."""

    name = "webhook"

    def __init__(self, url: str, timeout: float = WEBHOOK_TIMEOUT) -> None:
        self.url = url
        parts = urlsplit(url)
        self.where = f"{parts.scheme}://{parts.hostname}:{parts.port or ''}"  # no path, query or credentials
        self.timeout = timeout

    def send(self, events: list[Event]) -> list[Event]:
        import urllib.error  # here, not at the top: urllib.request loads ssl, ~4 MiB a collector without a
        import urllib.request  # webhook would carry for nothing

        for index, event in enumerate(events):
            body = json.dumps(event).encode()
            request = urllib.request.Request(
                self.url, data=body, method="POST", headers={"Content-Type": "application/json"}
            )
            try:
                with urllib.request.urlopen(request, timeout=self.timeout) as response:
                    response.read(1024)
            except (OSError, urllib.error.HTTPError) as error:
                if index == 0:
                    raise DeliveryError(f"webhook {self.where}: {_reason(error)}") from error
                return events[index:]
        return []


def _reason(error: Exception) -> str:
    import urllib.error

    if isinstance(error, urllib.error.HTTPError):
        return f"HTTP {error.code}"
    return str(getattr(error, "reason", None) or error)


class EventBridgeSink:
    """PutEvents on a bus, ten entries a call; entries EventBridge failed are returned for a retry."""

    name = "eventbridge"

    def __init__(self, client: Any, bus: str) -> None:
        self.client = client
        self.bus = bus

    def send(self, events: list[Event]) -> list[Event]:
        failed: list[Event] = []
        for start in range(0, len(events), PUT_EVENTS_BATCH):
            batch = events[start : start + PUT_EVENTS_BATCH]
            entries = [
                {
                    "Source": event["source"],
                    "DetailType": event["detail-type"],
                    "Detail": json.dumps(event["detail"]),
                    "EventBusName": self.bus,
                }
                for event in batch
            ]
            try:
                answer = self.client.put_events(Entries=entries)
            except Exception as error:  # botocore's errors: a failed call is retried like any other
                if start == 0:
                    raise DeliveryError(f"EventBridge bus {self.bus}: {error}") from error
                return failed + events[start:]
            results = answer.get("Entries", [])
            failed += [event for event, result in zip(batch, results, strict=False) if result.get("ErrorCode")]
        if failed and len(failed) == len(events):
            raise DeliveryError(f"EventBridge bus {self.bus}: every entry failed")
        return failed
