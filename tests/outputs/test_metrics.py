"""/metrics: every source's records, each source's own figures, and the names dashboards already use."""

from __future__ import annotations

from pathlib import Path

from collector_runtime.outputs.metrics import prometheus_text
from tests.helpers import otlp_collector, wait_for
from tests.otlp_builders import PROTOBUF, body, export, span
from tests.sources.otlp_http import request


def test_metrics_of_a_run_with_otlp_input_count_its_records_by_source(tmp_path: Path) -> None:
    with otlp_collector(tmp_path) as (service, port):
        data = body(export(span("S3", "ListBuckets"), span("SQS", "ListQueues"), span("S3", "")))
        assert request(port, data, {"Content-Type": PROTOBUF})[0] == 200
        assert wait_for(lambda: service.aggregator.stats.calls == 2)
        lines = prometheus_text(service.metrics_snapshot()).splitlines()
    assert "# TYPE csm_collector_records_received_total counter" in lines
    assert 'csm_collector_records_received_total{source="otlp"} 3' in lines
    assert "# TYPE csm_collector_records_rejected_total counter" in lines
    assert 'csm_collector_records_rejected_total{source="otlp"} 1' in lines
    assert "csm_collector_records_received_all_sources_total 3" in lines
    assert "csm_collector_records_rejected_all_sources_total 1" in lines
    assert "csm_collector_calls_total 2" in lines
    assert 'csm_collector_otlp_spans_total{kind="aws"} 2' in lines
    assert not any(line.startswith("csm_collector_datagrams_received_total") for line in lines)  # no CSM source


def test_metrics_keep_the_csm_names_beside_every_sources_series() -> None:
    csm = {"records_received": 10, "rejected": 3, "datagrams_received": 10, "events_rejected": 3}
    otlp = {"records_received": 4, "rejected": 1, "aws_spans": 3, "spans_ignored": 0, "spans_rejected": 1}
    otlp |= {"requests_accepted": 2, "refused_reasons": {}}
    stats = {"records_received": 14, "rejected": 4, "calls": 9, "csm": {**csm, "rejected_reasons": {"not_json": 3}}}
    lines = prometheus_text({**stats, "otlp": otlp}).splitlines()
    assert "csm_collector_datagrams_received_total 10" in lines  # the CSM source's figures keep their names
    assert "csm_collector_events_rejected_total 3" in lines
    assert 'csm_collector_rejected_total{reason="not_json"} 3' in lines
    assert "csm_collector_records_received_all_sources_total 14" in lines  # the top level's, not CSM's
    assert "csm_collector_records_rejected_all_sources_total 4" in lines
    assert 'csm_collector_records_received_total{source="csm"} 10' in lines
    assert 'csm_collector_records_received_total{source="otlp"} 4' in lines
    assert 'csm_collector_records_rejected_total{source="csm"} 3' in lines
    assert 'csm_collector_records_rejected_total{source="otlp"} 1' in lines
    assert sum(line.startswith("# TYPE csm_collector_records_received_total ") for line in lines) == 1


def test_label_values_are_escaped() -> None:
    """A reason restored from a corrupt state.json, or any source name, cannot break the text format."""
    odd = 'a"b\\c\nd'
    stats = {odd: {"records_received": 1, "rejected": 0}, "csm": {"rejected_reasons": {odd: 2}}}
    lines = prometheus_text(stats).splitlines()
    assert 'csm_collector_records_received_total{source="a\\"b\\\\c\\nd"} 1' in lines
    assert 'csm_collector_rejected_total{reason="a\\"b\\\\c\\nd"} 2' in lines
