"""Every source's counters continue after a restart (state.json), whichever order a command restores and starts
its sources in, and a hostile or corrupt saved section is ignored without losing the rest of the state."""

from __future__ import annotations

import json
import signal
import subprocess
import threading
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.collector import CollectorService
from collector_runtime.data import load_action_map
from collector_runtime.outputs.state_file import restore_state
from collector_runtime.settings import ListenOptions, OutputOptions
from collector_runtime.sources.csm.events import CsmCounters
from collector_runtime.sources.csm.source import CsmSource
from collector_runtime.sources.otlp.counters import OtlpCounters
from collector_runtime.sources.proxy.calls import ProxyCounters
from collector_runtime.sources.source_filter import FilterCounters
from tests.conftest import call, datagram
from tests.helpers import read_json, send, serving, start_listen, start_otlp_listen, wait_for
from tests.otlp_builders import PROTOBUF, body, export, span
from tests.sources.otlp_http import request

pytestmark = pytest.mark.timeout(120)

HOSTILE = [
    "not a number",
    -5,
    True,
    None,
    [1, 2],
    {"a": 1},
    1e400,
    2**70,
    "9" * 5000,
]


def _stopped(process: subprocess.Popen[str]) -> None:
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0


def test_a_restarted_listen_continues_its_otlp_counters(tmp_path: Path) -> None:
    """`listen --otlp-port` starts its OTLP receiver after the state is restored: its section continues."""
    process, _, port = start_otlp_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    data = body(export(span("S3", "ListBuckets"), span("SQS", "ListQueues"), span("S3", "")))
    assert request(port, data, {"Content-Type": PROTOBUF})[0] == 200
    assert request(port, b"\xff\xff\xff", {"Content-Type": PROTOBUF})[0] == 400
    _stopped(process)
    assert read_json(tmp_path / "stats.json")["otlp"]["aws_spans"] == 2

    process, _, port = start_otlp_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    assert request(port, body(export(span("SNS", "ListTopics"))), {"Content-Type": PROTOBUF})[0] == 200
    _stopped(process)
    stats = read_json(tmp_path / "stats.json")
    otlp = stats["otlp"]
    assert (otlp["requests_accepted"], otlp["aws_spans"], otlp["spans_ignored"], otlp["spans_rejected"]) == (2, 3, 0, 1)
    assert otlp["spans_received"] == 4
    assert (otlp["requests_refused"], otlp["refused_reasons"], otlp["rejected_reasons"]) == (
        1,
        {"malformed": 1},
        {"bad_name": 1},
    )
    assert (otlp["records_received"], otlp["rejected"]) == (4, 2)
    assert (stats["records_received"], stats["rejected"], stats["calls"]) == (4, 2, 3)  # no CSM datagram came
    assert read_json(tmp_path / "state.json")["stats"]["otlp"]["aws_spans"] == 3  # and the next restart goes on


def _state(**sections: Any) -> str:
    workloads = {"worker": {"calls": [["SQS", "SendMessage", 5, 0, 0]], "denied_actions": []}}
    return json.dumps(
        {
            "format": 3,
            "call_fields": ["service", "api", "calls", "failed", "denied"],
            "stats": {"calls": 5, **sections},
            "workloads": workloads,
        }
    )


def _service(tmp_path: Path) -> CollectorService:
    settings = ListenOptions(port=0, quiet=True, flush_interval=3600, output=OutputOptions(output_dir=tmp_path))
    return CollectorService(settings, load_action_map())


class _CountingSource:
    """A thread source: its counter is incremented by its own thread from `start` on, as the proxy's are."""

    name = "proxy"

    def __init__(self) -> None:
        self.counters = ProxyCounters()
        self.counting = threading.Event()
        self.stopped = threading.Event()
        self.thread = threading.Thread(target=self._count, daemon=True)

    def start(self, intake: Any) -> None:
        self.thread.start()
        assert self.counting.wait(10)

    def _count(self) -> None:
        self.counting.set()
        while not self.stopped.is_set():
            self.counters.requests_intercepted += 1

    def stats(self) -> dict[str, Any]:
        return {"records_received": self.counters.requests_intercepted, "rejected": 0, **self.counters.as_dict()}

    def restore(self, saved: dict[str, Any]) -> None:
        self.counters.add(saved)

    def stop(self) -> None:
        self.stopped.set()
        self.thread.join(10)


@pytest.mark.parametrize("restored_first", [True, False], ids=["restore-then-start", "start-then-restore"])
def test_a_thread_sources_counters_continue_whichever_comes_first(tmp_path: Path, restored_first: bool) -> None:
    """`proxy` starts its source before the restore, `listen` its OTLP receiver after: neither loses a count
    the source's thread made meanwhile, and the saved totals are added once."""
    (tmp_path / "state.json").write_text(_state(proxy={"requests_intercepted": 1_000_000_000, "internal_errors": 3}))
    service, source = _service(tmp_path), _CountingSource()
    if restored_first:
        assert restore_state(service.restore, tmp_path)
        service.add_source(source)
    else:
        service.add_source(source)
        assert restore_state(service.restore, tmp_path)
    source.stop()
    counted = source.counters.requests_intercepted  # this run's own counts, never rewritten by the restore
    assert source.counters.as_dict()["requests_intercepted"] == 1_000_000_000 + counted
    assert source.counters.as_dict()["internal_errors"] == 3
    assert service.counters()["proxy"]["requests_intercepted"] == 1_000_000_000 + counted


def test_a_real_otlp_source_added_after_the_restore_continues(tmp_path: Path) -> None:
    from collector_runtime.sources.otlp.receiver import OtlpReceiver
    from collector_runtime.sources.otlp.source import OtlpSource

    saved = {"requests_accepted": 4, "aws_spans": 7, "refused_reasons": {"busy": 2}, "rejected_reasons": {}}
    (tmp_path / "state.json").write_text(_state(otlp=saved))
    service = _service(tmp_path)
    assert restore_state(service.restore, tmp_path)
    receiver = OtlpReceiver("127.0.0.1", 0, service.aggregator.action_map, service.submit, max_request_bytes=1 << 20)
    service.add_source(OtlpSource(receiver))
    with serving(service):
        assert request(receiver.address[1], body(export(span())), {"Content-Type": PROTOBUF})[0] == 200
        assert wait_for(lambda: service.aggregator.stats.calls == 6)
    otlp = read_json(tmp_path / "stats.json")["otlp"]
    assert (otlp["requests_accepted"], otlp["aws_spans"], otlp["spans_received"]) == (5, 8, 8)
    assert (otlp["requests_refused"], otlp["refused_reasons"], otlp["rejected"]) == (2, {"busy": 2}, 2)


@pytest.mark.parametrize("value", HOSTILE, ids=lambda value: repr(value)[:12])
def test_hostile_saved_counters_are_ignored_and_the_rest_continues(value: Any) -> None:
    otlp = OtlpCounters()
    otlp.add({"aws_spans": value, "spans_ignored": 2, "refused_reasons": {"busy": value, "malformed": 1}})
    otlp.add({"rejected_reasons": value, "refused_reasons": [value]})
    counted = otlp.as_dict()
    assert (counted["aws_spans"], counted["spans_ignored"], counted["refused_reasons"]) == (0, 2, {"malformed": 1})
    proxy = ProxyCounters()
    proxy.add({"requests_intercepted": value, "requests_matched": 4, "unknown_counter": 9})
    assert proxy.as_dict()["requests_intercepted"] == 0 and proxy.as_dict()["requests_matched"] == 4
    assert "unknown_counter" not in proxy.as_dict()
    csm = CsmCounters()
    csm.add({"datagrams_received": value, "events_parsed": 3, "rejected_reasons": {"not_json": value, "too_big": 2}})
    assert (csm.datagrams_received, csm.events_parsed, dict(csm.rejected_reasons)) == (0, 3, {"too_big": 2})
    access = FilterCounters()
    access.add({"dropped_not_allowed": value, "dropped_rate_limited": 5})
    access.add(value)  # the whole block not an object
    assert access.as_dict() == {"dropped_not_allowed": 0, "dropped_rate_limited": 5}


def test_saved_reasons_are_bounded_and_plain() -> None:
    """Reasons become /metrics labels: a corrupt file's odd keys are left out, and so is a flood of them."""
    counters = OtlpCounters()
    flood = {f"reason_{index}": 1 for index in range(10_000)}
    counters.add({"refused_reasons": {"busy": 3, 'x"} 1\nfake 2': 5, "": 1, **flood}})
    reasons = counters.as_dict()["refused_reasons"]
    assert reasons["busy"] == 3 and len(reasons) <= 64
    assert all(key.replace("_", "").isalnum() for key in reasons)


def test_a_state_with_hostile_source_sections_is_restored_not_set_aside(tmp_path: Path) -> None:
    from collector_runtime.sources.otlp.receiver import OtlpReceiver
    from collector_runtime.sources.otlp.source import OtlpSource

    hostile = {"aws_spans": "many", "refused_reasons": "busy", "rejected_reasons": {"bad_name": [1]}}
    (tmp_path / "state.json").write_text(
        _state(otlp=hostile, proxy=["not", "a", "section"], csm={"datagrams_received": "x", "rejected_reasons": 7})
    )
    service = _service(tmp_path)
    service.add_source(CsmSource())  # added before the restore, as `listen` adds it
    assert restore_state(service.restore, tmp_path)
    receiver = OtlpReceiver("127.0.0.1", 0, service.aggregator.action_map, service.submit, max_request_bytes=1 << 20)
    service.add_source(OtlpSource(receiver))
    service.add_source(_CountingSource())
    assert service.aggregator.stats.calls == 5 and (tmp_path / "state.json").exists()
    counters = service.counters()
    assert counters["otlp"]["aws_spans"] == 0 and counters["otlp"]["refused_reasons"] == {}
    assert counters["csm"]["datagrams_received"] == 0 and counters["csm"]["rejected_reasons"] == {}
    for source in list(service.sources.values()):
        source.stop()


def _state_with_bad_counters() -> str:
    """A state whose workloads are fine and whose top-level counters are not (corrupt or hostile)."""
    state = json.loads(_state())
    state["stats"].update(
        internal_errors="lots", calls_failed=[1], calls_dropped={"call_limit": "x"}, unmapped_calls=[{"calls": 1}]
    )
    return json.dumps(state)


def test_a_restart_with_bad_top_level_counters_keeps_the_workloads(tmp_path: Path) -> None:
    """A bad counter is left out: the calls are restored, nothing is set aside, the next state holds them."""
    (tmp_path / "state.json").write_text(_state_with_bad_counters())
    process, _ = start_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    _stopped(process)
    assert not list(tmp_path.glob("state.json.unreadable-*"))
    stats = read_json(tmp_path / "stats.json")
    assert (stats["calls"], stats["calls_failed"], stats["internal_errors"], stats["calls_dropped"]) == (5, 0, 0, {})
    saved = read_json(tmp_path / "state.json")
    assert saved["workloads"]["worker"]["calls"][0][:3] == ["SQS", "SendMessage", 5]


def test_bad_top_level_counters_are_logged_once_and_the_log_tells_the_truth(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "state.json").write_text(_state_with_bad_counters())
    service = _service(tmp_path)
    assert restore_state(service.restore, tmp_path)
    assert "starting empty" not in caplog.text and "set aside" not in caplog.text
    left_out = [record.getMessage() for record in caplog.records if "left out" in record.getMessage()]
    assert len(left_out) == 1 and "internal_errors" in left_out[0] and "calls_failed" in left_out[0]
    assert service.aggregator.workloads["worker"].calls == 5 and service.pipeline.internal_errors == 0


def test_a_malformed_workload_restores_nothing(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    """All or nothing: a state that cannot be read is set aside before any of it is merged ("starting empty")."""
    state = json.loads(_state())
    state["workloads"]["broken"] = {"calls": [["S3", "GetObject", 1, 0, 0], ["S3", "PutObject", "x", 0, 0]]}
    (tmp_path / "state.json").write_text(json.dumps(state))  # "worker" comes first, "broken" after it
    service = _service(tmp_path)
    assert not restore_state(service.restore, tmp_path)
    assert "starting empty" in caplog.text and list(tmp_path.glob("state.json.unreadable-*"))
    assert not service.aggregator.workloads and service.aggregator.stats.calls == 0


def test_a_run_without_otlp_keeps_the_otlp_section_and_a_later_one_continues_it(tmp_path: Path) -> None:
    process, _, port = start_otlp_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    assert request(port, body(export(span("S3", "ListBuckets"), span("S3", ""))), {"Content-Type": PROTOBUF})[0] == 200
    _stopped(process)

    process, _ = start_listen(tmp_path, "--flush-interval", "3600", "--quiet")  # no --otlp-port this time
    _stopped(process)
    stats = read_json(tmp_path / "stats.json")
    assert (stats["otlp"]["aws_spans"], stats["otlp"]["records_received"], stats["otlp"]["rejected"]) == (1, 2, 1)
    assert (stats["records_received"], stats["rejected"], stats["calls"]) == (2, 1, 1)
    assert read_json(tmp_path / "state.json")["stats"]["otlp"]["aws_spans"] == 1

    process, _, port = start_otlp_listen(tmp_path, "--flush-interval", "3600", "--quiet")
    assert request(port, body(export(span("SNS", "ListTopics"))), {"Content-Type": PROTOBUF})[0] == 200
    _stopped(process)
    stats = read_json(tmp_path / "stats.json")
    assert (stats["otlp"]["aws_spans"], stats["otlp"]["spans_received"], stats["records_received"]) == (2, 3, 3)
    assert stats["otlp"]["rejected_reasons"] == {"bad_name": 1}


def test_a_carried_section_keeps_only_counts_and_reasons(tmp_path: Path) -> None:
    """A section of a source not running is carried forward checked: no odd key, value or nested part."""
    hostile = {
        "aws_spans": 3,
        "spans_ignored": "many",
        'x"} 1\nfake': 2,
        "refused_reasons": {"busy": 2, "bad key": 1},
        "access": {"dropped_not_allowed": 1},
        "records_received": [4],
    }
    (tmp_path / "state.json").write_text(_state(otlp=hostile, evil={"records_received": 9}))
    service = _service(tmp_path)
    assert restore_state(service.restore, tmp_path)
    counters = service.counters()
    assert counters["otlp"] == {"aws_spans": 3, "refused_reasons": {"busy": 2}, "records_received": 0, "rejected": 0}
    assert "evil" not in counters and counters["records_received"] == 0


def test_a_carried_section_missing_counters_still_renders(tmp_path: Path) -> None:
    """/metrics and the live view read a carried section as they read a running source's."""
    from collector_runtime.outputs.live_view import status_line
    from collector_runtime.outputs.metrics import prometheus_text

    (tmp_path / "state.json").write_text(_state(otlp={"aws_spans": 3}, csm={"access": {"x": 1}, "events_parsed": 2}))
    service = _service(tmp_path)
    assert restore_state(service.restore, tmp_path)
    text = prometheus_text(service.metrics_snapshot())
    assert 'csm_collector_otlp_spans_total{kind="aws"} 3' in text
    assert 'csm_collector_otlp_spans_total{kind="ignored"} 0' in text
    assert "csm 0, otlp 0" in status_line(service.aggregator, service.counters(), 0.0)


def _refused_run(out: Path) -> str:
    """One `listen --allow-from 10.0.0.0/8` run sent one datagram from 127.0.0.1 (refused); its log."""
    process, port = start_listen(out, "--flush-interval", "3600", "--allow-from", "10.0.0.0/8")
    send(port, datagram(call("SQS", "SendMessage", "worker")))
    process.send_signal(signal.SIGTERM)
    _, stderr = process.communicate(timeout=60)
    assert process.returncode == 0, stderr
    return stderr


def test_a_restarted_listen_continues_its_access_counters(tmp_path: Path) -> None:
    """The datagrams access control refused are CSM's counts like the others: a restart continues them (they
    began at zero again), and the log still says what this run refused."""
    _refused_run(tmp_path)
    assert read_json(tmp_path / "stats.json")["csm"]["access"]["dropped_not_allowed"] == 1
    log = _refused_run(tmp_path)
    assert read_json(tmp_path / "stats.json")["csm"]["access"] == {"dropped_not_allowed": 2, "dropped_rate_limited": 0}
    assert "dropped 1 datagrams from sources not in --allow-from and 0 over --rate-limit" in log
    assert "(totals 2 and 0," in log
    assert read_json(tmp_path / "state.json")["stats"]["csm"]["access"]["dropped_not_allowed"] == 2
