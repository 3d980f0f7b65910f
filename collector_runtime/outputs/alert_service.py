"""Alerts from a running collector: after each flush, the core decides what is news; sinks deliver it.

Runs on the collector's loop at each flush (`after_flush`): only the workloads that changed are looked
at, and events are only queued (alert_delivery.py sends them from background threads). Drift needs the
mapped roles' policies (IAM calls): a drift check runs in its own thread every `drift_interval`
seconds, on the policies as the last flush rendered them.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import Any

from ..core.aggregate import Aggregator
from ..core.alerts import KINDS, Alert, DeniedCallDetector, Gate, NewActionDetector, TokenBucket, first_seen_of, iso_ms
from ..core.compare import ActionUniverse, GrantedPolicy
from ..core.drift import DriftInput, drift_alerts
from ..core.rendering import Rendered
from .alert_delivery import Delivery
from .alert_sinks import event_envelope

log = logging.getLogger("csm_collector")
RoleFetcher = Callable[[str], list[GrantedPolicy]]  # role or function ARN -> the role's policies


class AlertService:
    def __init__(
        self,
        deliveries: list[Delivery],
        *,
        output_dir: str,
        learning_period: float = 0.0,
        rate: float = 10.0,
        burst: float = 100.0,
        role_map: dict[str, str] | None = None,
        fetch_role: RoleFetcher | None = None,
        universe: ActionUniverse | None = None,
        drift_interval: float = 3600.0,
        unused_after: float = 7 * 86400.0,
    ) -> None:
        self.deliveries = deliveries
        self.output_dir = output_dir
        self.new_actions = NewActionDetector(learning_period)
        self.denials = DeniedCallDetector()
        self.gate = Gate(TokenBucket(rate, burst))
        self.role_map = role_map or {}
        self.fetch_role = fetch_role
        self.universe = universe
        self.drift_interval = drift_interval
        self.unused_after = unused_after
        self.events = dict.fromkeys(KINDS, 0)
        self.drift_checks = self.drift_failures = 0
        self.drift_reports: dict[str, dict[str, Any]] = {}  # workload -> its last drift summary
        self._lock = threading.Lock()  # the gate and counters: the loop's thread and the drift thread
        self._revisions: dict[str, int] = {}
        self._watched_since: dict[str, float] = {}
        self._documents: dict[str, dict[str, Any]] = {}
        self._next_drift: float | None = None
        self._drift_thread: threading.Thread | None = None
        self.internal_errors = 0

    def resumed(self, aggregator: Aggregator, rendered: Rendered, now: float) -> None:
        """A restored state: what it holds is the baseline, learned without alerts."""
        for policy in rendered.policies:
            workload = aggregator.workloads.get(policy.workload)
            if workload is not None:
                self.new_actions.learned(workload, policy.document, now)
        self._decide(aggregator, rendered, now)

    def after_flush(self, aggregator: Aggregator, rendered: Rendered, now: float) -> None:
        try:
            self._after_flush(aggregator, rendered, now)
        except Exception:  # alerts never end a flush
            self.internal_errors += 1
            if self.internal_errors == 1:
                log.exception("alerts: internal error (counted; the collector goes on)")

    def _after_flush(self, aggregator: Aggregator, rendered: Rendered, now: float) -> None:
        self.emit(self._decide(aggregator, rendered, now), now)
        if self.role_map and self.fetch_role and self.universe and self._drift_due(now):
            self._start_drift(aggregator, now)

    def _decide(self, aggregator: Aggregator, rendered: Rendered, now: float) -> list[Alert]:
        """What is news since the last look (only the workloads that changed are looked at)."""
        found: list[Alert] = []
        for policy in rendered.policies:
            workload = aggregator.workloads.get(policy.workload)
            if workload is not None:
                document = policy.document  # parsed from its text at each access
                found += self.new_actions.check(workload, document, now)
                if policy.workload in self.role_map:
                    self._documents[policy.workload] = document
        for name, workload in aggregator.workloads.items():
            self._watched_since.setdefault(name, now)
            if self._revisions.get(name) != workload.revision:
                self._revisions[name] = workload.revision
                found += self.denials.check(workload)
        return found

    def emit(self, alerts: list[Alert], now: float) -> None:
        with self._lock:
            admitted = self.gate.admit(alerts, now)
            for alert in admitted:
                self.events[alert.kind] += 1
        time_iso = iso_ms(int(now * 1000)) or ""
        for alert in admitted:
            event = event_envelope(alert.detail(self.output_dir), time_iso)
            for delivery in self.deliveries:
                delivery.offer(event)

    def _drift_due(self, now: float) -> bool:
        if self._drift_thread is not None and self._drift_thread.is_alive():
            return False
        if self._next_drift is None or now >= self._next_drift:
            self._next_drift = now + self.drift_interval
            return True
        return False

    def _start_drift(self, aggregator: Aggregator, now: float) -> None:
        items = []
        for name, document in self._documents.items():
            workload = aggregator.workloads[name]
            first_seen = {action: first_seen_of(workload, action) for action in workload.actions}
            items.append(DriftInput(name, self.role_map[name], document, self._watched_since[name], first_seen))
        if items:
            self._drift_thread = threading.Thread(target=self.check_drift, args=(items, now), name="csm-drift")
            self._drift_thread.daemon = True
            self._drift_thread.start()

    def check_drift(self, items: list[DriftInput], now: float) -> None:
        """One drift check (in the drift thread); a role that cannot be read is counted and logged."""
        assert self.fetch_role is not None and self.universe is not None
        for item in items:
            try:
                granted = self.fetch_role(item.role_arn)
            except Exception as error:
                self.drift_failures += 1
                log.warning("alerts: drift of %r: cannot read %s: %s", item.workload, item.role_arn, error)
                continue
            alerts, report = drift_alerts(item, granted, self.universe, now=now, unused_after=self.unused_after)
            self.drift_reports[item.workload] = {
                "role": item.role_arn,
                "checked_at": iso_ms(int(now * 1000)),
                "missing": [entry["action"] for entry in report["missing"]],
                "unused_granted": report["unused_granted"] if now - item.watched_since >= self.unused_after else [],
                "summary": report["summary"],
            }
            self.emit(alerts, now)
        self.drift_checks += 1

    def wait_for_drift(self, timeout: float) -> None:
        if self._drift_thread is not None:
            self._drift_thread.join(timeout)

    def status(self) -> dict[str, Any]:
        """Counters for stats.json and /metrics."""
        return {
            "events": dict(self.events),
            **self.gate.counts,
            "internal_errors": self.internal_errors,
            "drift": {
                "checks": self.drift_checks,
                "failures": self.drift_failures,
                "workloads": dict(self.drift_reports),
            },
            "sinks": {delivery.sink.name: delivery.status() for delivery in self.deliveries},
        }

    def close(self, timeout: float) -> None:
        self.wait_for_drift(timeout)
        for delivery in self.deliveries:
            if not delivery.close(timeout):
                log.error(
                    "alerts: %d events to %s not delivered at shutdown",
                    delivery.status()["pending"],
                    delivery.sink.name,
                )
