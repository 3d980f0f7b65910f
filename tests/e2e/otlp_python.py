"""Real Python instrumentation for the OTLP end-to-end tests: boto3 with `opentelemetry-instrumentation-botocore`
and the OTLP/HTTP protobuf exporter of `opentelemetry-exporter-otlp-proto-http` (pinned in the otlp-e2e extra),
exporting to a collector's `--otlp-port`; moto in-process answers the calls."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
from opentelemetry.instrumentation.botocore import BotocoreInstrumentor
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor

from collector_runtime.commands.demo import run_workload

SECRET_VALUE = "s3cr3t-otlp-value-never-kept"
MESSAGE_BODY = "message-body-never-kept"


@contextmanager
def instrumented(endpoint: str, service_name: str) -> Iterator[TracerProvider]:
    """botocore instrumented for the duration, exporting in batches to `endpoint`; flushed and removed after."""
    provider = TracerProvider(resource=Resource.create({"service.name": service_name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter(endpoint=endpoint), max_export_batch_size=20))
    instrumentor = BotocoreInstrumentor()
    instrumentor.instrument(tracer_provider=provider)
    try:
        yield provider
    finally:
        assert provider.force_flush(10_000)
        instrumentor.uninstrument()
        provider.shutdown()


def more_calls(session: Any) -> None:
    """Beyond the demo workload: resources the instrumentation names (topic, secret, queue, stream, function)."""
    topic = session.client("sns").create_topic(Name="otlp-alerts")["TopicArn"]
    session.client("sns").publish(TopicArn=topic, Message=MESSAGE_BODY)
    secrets = session.client("secretsmanager")
    secrets.create_secret(Name="otlp-db", SecretString=SECRET_VALUE)
    secrets.get_secret_value(SecretId="otlp-db")
    kinesis = session.client("kinesis")
    kinesis.create_stream(StreamName="otlp-clicks", ShardCount=1)
    kinesis.put_record(StreamName="otlp-clicks", Data=b"x", PartitionKey="p")
    session.client("logs").create_log_group(logGroupName="/otlp/app")


def all_calls(session: Any) -> None:
    run_workload(session)
    more_calls(session)
