"""Alerts for `listen` and `proxy`: the sinks the flags ask for, drift's IAM reads, the hook on the collector."""

from __future__ import annotations

from typing import Any

from ..aws import aws_clients
from ..collector import CollectorService
from ..core.compare import ActionUniverse, GrantedPolicy
from ..core.mapping import ActionMap
from ..outputs.alert_delivery import Delivery
from ..outputs.alert_service import AlertService, RoleFetcher
from ..outputs.alert_sinks import ALERTS_FILE, EventBridgeSink, FileSink, Sink, WebhookSink
from ..settings import CollectorOptions
from .compare_inputs import granted_by_role, role_name_of_function


def attach_alerts(service: CollectorService, options: CollectorOptions, action_map: ActionMap) -> AlertService | None:
    """Alerts on `service`'s flushes, counted in stats.json and /metrics; None when no target is set."""
    alerts = options.alerts
    if not alerts.enabled:
        return None
    sinks: list[Sink] = []
    if alerts.file:
        sinks.append(FileSink(options.output.output_dir / ALERTS_FILE))
    if alerts.webhook:
        sinks.append(WebhookSink(alerts.webhook))
    if alerts.event_bus:
        client = aws_clients(options.region, ["events"], purpose="--alerts-event-bus")["events"]
        sinks.append(EventBridgeSink(client, alerts.event_bus))
    alert_service = AlertService(
        [Delivery(sink, retry_window=alerts.retry_window) for sink in sinks],
        output_dir=str(options.output.output_dir),
        learning_period=alerts.learning_period,
        rate=alerts.rate,
        burst=alerts.burst,
        role_map=dict(alerts.role_map),
        fetch_role=role_fetcher(options.region) if alerts.role_map else None,
        universe=ActionUniverse(action_map.all_actions()) if alerts.role_map else None,
        drift_interval=alerts.drift_interval,
        unused_after=alerts.unused_after,
    )
    service.observe_flushes(alert_service)
    service.add_stats("alerts", alert_service.status)
    return alert_service


def role_fetcher(region: str | None, clients: dict[str, Any] | None = None) -> RoleFetcher:
    """Reads a role's policies (IAM), or a Lambda function's role's (Lambda, then IAM)."""
    found = clients or aws_clients(region, ["iam", "lambda"], purpose="--role-map (drift)")

    def fetch(arn: str) -> list[GrantedPolicy]:
        role = role_name_of_function(found["lambda"], arn) if ":lambda:" in arn else arn.rsplit("/", 1)[-1]
        return granted_by_role(found["iam"], role)[0]

    return fetch
