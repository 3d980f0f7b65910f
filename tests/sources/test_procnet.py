from __future__ import annotations

from collector_runtime.sources.csm.procnet import drops_in_table

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
