"""Publish what the collector learns to S3 and SSM Parameter Store, from a background thread.

Desired-state reconciliation: each flush hands over the latest texts (what to publish is decided by
`core.publish_plan`); the publisher uploads whatever differs from what it last published
successfully. A failure (throttling, network, permissions, a missing bucket) leaves the item pending
and backs that target off (exponentially, capped); the next attempt catches up with the latest
state, so an outage loses nothing and intake never waits. History entries (one per policy change)
are append-only and uploaded in order. stats.json is uploaded again when its substance changed (not its
clocks, see `core.publish_plan.stats_substance`), at least every `heartbeat` seconds, and at stop.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

from ..contract import STATS_FILE
from ..core.publish_plan import STATS_HEARTBEAT_SECONDS, PublishTargets, parameter_update, publish_plan
from ..core.rendering import Rendered

log = logging.getLogger("csm_collector")


@dataclass
class _Target:
    """Backoff and outage reporting for one destination (S3 or SSM)."""

    name: str
    clock: Callable[[], float]
    max_backoff: float
    published: int = 0
    failures: int = 0
    failures_in_outage: int = 0
    last_error: str | None = None
    retry_at: float = 0.0
    backoff: float = 1.0

    def ready(self) -> bool:
        return self.clock() >= self.retry_at

    def succeeded(self) -> None:
        self.published += 1
        if self.failures_in_outage:
            log.warning("%s publishing works again after %d failed attempts", self.name, self.failures_in_outage)
        self.failures_in_outage = 0
        self.backoff = 1.0

    def failed(self, error: Exception) -> None:
        self.failures += 1
        self.failures_in_outage += 1
        self.last_error = f"{type(error).__name__}: {error}"[:300]
        if self.failures_in_outage == 1:
            log.error(
                "%s publishing failed (%s); retrying with backoff, items stay pending", self.name, self.last_error
            )
        self.retry_at = self.clock() + self.backoff
        self.backoff = min(self.backoff * 2, self.max_backoff)

    def status(self, pending: int) -> dict[str, Any]:
        return {
            "published": self.published,
            "pending": pending,
            "failures": self.failures,
            "in_outage": self.failures_in_outage > 0,
            "last_error": self.last_error,
        }


@dataclass
class _Desired:
    objects: dict[str, bytes] = field(default_factory=dict)  # S3 key -> body
    parameters: dict[str, str] = field(default_factory=dict)  # SSM name -> compact policy
    policy_keys: dict[str, str] = field(default_factory=dict)  # SSM name -> S3 key of that policy
    history: deque[tuple[str, bytes]] = field(default_factory=deque)
    archives: deque[tuple[Path, str]] = field(default_factory=deque)
    substance: dict[str, bytes] = field(default_factory=dict)  # S3 key -> what decides whether it changed


class Publisher:
    def __init__(
        self,
        targets: PublishTargets,
        *,
        s3_client: Any = None,
        ssm_client: Any = None,
        ssm_rate: float = 2.0,
        max_backoff: float = 60.0,
        heartbeat: float = STATS_HEARTBEAT_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self.targets = targets
        self.s3, self.ssm = s3_client, ssm_client
        self.ssm_interval = 1.0 / ssm_rate
        self.heartbeat = heartbeat
        self.clock, self.wall_clock = clock, wall_clock
        self._s3 = _Target("S3", clock, max_backoff)
        self._ssm = _Target("SSM", clock, max_backoff)
        self._desired = _Desired()
        self._published: dict[str, str] = {}  # S3 key or SSM name -> digest of what was published
        self._published_substance: dict[str, tuple[str, float]] = {}  # S3 key -> (digest, clock) at upload
        self._advanced: set[str] = set()  # parameters already on the Advanced tier (no way back)
        self._next_ssm_put = 0.0
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread = threading.Thread(target=self._run, name="csm-publisher", daemon=True)

    # --- collector thread -------------------------------------------------------------------------

    def start(self) -> None:
        self._thread.start()

    def update(self, rendered: Rendered, *, record_history: bool = True) -> None:
        """Take the latest texts of a flush (only what changed is in `rendered`)."""
        plan = publish_plan(rendered, self.targets, _stamp(self.wall_clock()), record_history=record_history)
        with self._lock:
            desired = self._desired
            desired.objects.update(plan.objects)
            desired.parameters.update(plan.parameters)
            desired.policy_keys.update(plan.policy_keys)
            desired.history.extend(plan.history)
            desired.substance.update(plan.substance)
        self._wake.set()

    def add_archive(self, path: Path, relative: str) -> None:
        """A rolled archive file to upload (and then delete locally) at <prefix>archive/<relative>."""
        if not self.targets.bucket:
            return
        with self._lock:
            self._desired.archives.append((path, self.targets.archive_key(relative)))
        self._wake.set()

    def stop(self, timeout: float) -> bool:
        """Publish what is pending (bounded by `timeout`); returns whether everything was published."""
        self._stopping = True
        self._wake.set()
        if self._thread.is_alive():
            self._thread.join(timeout)
        return self.pending() == 0

    def pending(self) -> int:
        with self._lock:
            return sum(self._pending_counts().values())

    def status(self) -> dict[str, Any]:
        with self._lock:
            counts = self._pending_counts()
        return {"s3": self._s3.status(counts["s3"]), "ssm": self._ssm.status(counts["ssm"])}

    def _pending_counts(self) -> dict[str, int]:
        d = self._desired
        s3 = sum(1 for k, v in d.objects.items() if self._object_changed(k, v))
        ssm = sum(1 for k, v in d.parameters.items() if self._published.get(k) != _digest(v.encode()))
        return {"s3": s3 + len(d.history) + len(d.archives), "ssm": ssm}

    # --- publisher thread -------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            self._wake.wait(timeout=self._seconds_to_retry())
            self._wake.clear()
            self.publish_pending()
            if self._stopping and self.pending() == 0:
                return

    def _seconds_to_retry(self) -> float:
        waits = [t.retry_at - self.clock() for t in (self._s3, self._ssm) if t.failures_in_outage]
        return max(0.05, min(waits)) if waits else 5.0

    def publish_pending(self) -> None:
        """One pass over everything pending; stops at the first failure of each target."""
        if self.s3 is not None and self._s3.ready():
            self._publish_s3()
        if self.ssm is not None and self._ssm.ready():
            self._publish_ssm()

    def _publish_s3(self) -> None:
        while True:
            with self._lock:
                history = self._desired.history[0] if self._desired.history else None
            if history is None:
                break
            if not self._try(self._s3, partial(self._put_object, *history)):
                return
            with self._lock:
                self._desired.history.popleft()
        for key, body, substance in self._changed_objects():
            if not self._try(self._s3, partial(self._put_object, key, body)):
                return
            self._published[key] = _digest(body)
            if substance is not None:
                self._published_substance[key] = (_digest(substance), self.clock())
        self._publish_archives()

    def _put_object(self, key: str, body: bytes) -> None:
        self.s3.put_object(Bucket=self.targets.bucket, Key=key, Body=body, ContentType="application/json")

    def _upload_archive(self, path: Path, key: str) -> None:
        self.s3.upload_file(str(path), self.targets.bucket, key, ExtraArgs={"ContentType": "application/gzip"})

    def _publish_archives(self) -> None:
        while True:
            with self._lock:
                item = self._desired.archives[0] if self._desired.archives else None
            if item is None:
                return
            path, key = item
            if path.exists() and not self._try(self._s3, partial(self._upload_archive, path, key)):
                return
            path.unlink(missing_ok=True)
            with self._lock:
                self._desired.archives.popleft()

    def _changed_objects(self) -> list[tuple[str, bytes, bytes | None]]:
        with self._lock:
            items = list(self._desired.objects.items())
            changed = [(k, v, self._desired.substance.get(k)) for k, v in items if self._object_changed(k, v)]
        return sorted(changed, key=lambda kv: kv[0].endswith(STATS_FILE))  # stats last

    def _object_changed(self, key: str, body: bytes) -> bool:
        """Whether `body` is to be uploaded (called with the lock held)."""
        if self._published.get(key) == _digest(body):
            return False
        substance = self._desired.substance.get(key)
        if substance is None or self._stopping or key not in self._published_substance:
            return True
        digest, uploaded_at = self._published_substance[key]
        return digest != _digest(substance) or self.clock() - uploaded_at >= self.heartbeat

    def _publish_ssm(self) -> None:
        with self._lock:
            items = list(self._desired.parameters.items())
            keys = dict(self._desired.policy_keys)
        for name, value in items:
            digest = _digest(value.encode())
            if self._published.get(name) == digest:
                continue
            arguments = self._parameter(name, value, keys.get(name))
            if arguments is None:
                continue  # its S3 copy is not published yet: next pass
            self._throttle_ssm()
            if not self._try(self._ssm, partial(self.ssm.put_parameter, **arguments)):
                return
            if arguments["Tier"] == "Advanced":
                self._advanced.add(name)
            self._published[name] = digest

    def _parameter(self, name: str, value: str, key: str | None) -> dict[str, Any] | None:
        update = parameter_update(
            name,
            value,
            bucket=self.targets.bucket,
            s3_key=key,
            s3_published=key is not None and key in self._published,
            advanced=name in self._advanced,
        )
        if update.unpublishable:
            log.warning("policy for %s is over 8 KB and no S3 bucket is set: not published to SSM", name)
            self._published[name] = _digest(value.encode())
        return update.request

    def _throttle_ssm(self) -> None:
        wait = self._next_ssm_put - self.clock()
        if wait > 0:
            time.sleep(wait)
        self._next_ssm_put = max(self._next_ssm_put, self.clock()) + self.ssm_interval

    def _try(self, target: _Target, call: Callable[[], Any]) -> bool:
        try:
            call()
        except Exception as error:  # any client, network or service error: retried with backoff
            target.failed(error)
            return False
        target.succeeded()
        return True


def _digest(body: bytes) -> str:
    return hashlib.blake2b(body, digest_size=16).hexdigest()


def _stamp(timestamp: float) -> str:
    return dt.datetime.fromtimestamp(timestamp, tz=dt.UTC).strftime("%Y%m%dT%H%M%S.%fZ")
