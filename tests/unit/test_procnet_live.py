from __future__ import annotations

import io
import re

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.live import LiveView
from collector_runtime.procnet import drops_in_table
from tests.conftest import call, datagram

HEADER = "sl local_address rem_address st tx_queue rx_queue tr tm->when retrnsmt uid timeout inode ref pointer drops"
TABLE = (
    HEADER
    + """
  123: 0100007F:7918 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 55501 2 0000000000000000 17
  124: 0100007F:7919 00000000:0000 07 00000000:00000000 00:00000000 00000000     0        0 55502 2 0000000000000000 0
"""
)


def test_drops_are_read_for_the_socket_inode() -> None:
    assert drops_in_table(TABLE, 55501) == 17
    assert drops_in_table(TABLE, 55502) == 0
    assert drops_in_table(TABLE, 1) is None


def test_live_view_prints_new_actions_once_and_a_status_line(aggregator: Aggregator) -> None:
    out = io.StringIO()
    view = LiveView(out, is_tty=False, refresh=0.5, status_interval=10.0)
    aggregator.ingest(datagram(call("S3", "GetObject"), call("S3", "Teleport"), call("Lambda", "CreateFunction")))
    view.update(100.0, aggregator, {"kernel_receive_drops": 0})
    text = out.getvalue()
    assert "+ app" in text and "s3:GetObject" in text
    assert "? app" in text and "S3.Teleport" in text
    assert "~ app" in text and "iam:PassRole" in text
    assert "workloads 1" in text and "kernel drops 0" in text
    for second in range(1, 30):  # no new actions: status at most every 10 s, never per event
        aggregator.ingest(datagram(call("S3", "GetObject")))
        view.update(100.0 + second * 0.1, aggregator, {})
    assert len(re.findall(r"s3:GetObject(?![\w-])", out.getvalue())) == 1  # not s3:GetObjectVersion
    assert out.getvalue().count("[csm-collector]") == 1


def test_live_view_on_a_terminal_rewrites_the_status_line(aggregator: Aggregator) -> None:
    out = io.StringIO()
    view = LiveView(out, is_tty=True)
    aggregator.ingest(datagram(call("S3", "GetObject")))
    view.update(1.0, aggregator, {})
    view.update(1.1, aggregator, {})  # within the refresh interval: nothing
    view.update(2.0, aggregator, {})
    assert out.getvalue().count("\r\x1b[K[csm-collector]") == 2
