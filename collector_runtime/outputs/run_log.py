"""What the log says about a running collector beyond its errors: the signals it received and what it
wrote for them, and the datagrams access control dropped (`--allow-from`, `--rate-limit`)."""

from __future__ import annotations

import logging

log = logging.getLogger("csm_collector")


class RunLog:
    def __init__(self) -> None:
        self._dropped = (0, 0)

    @staticmethod
    def received(signal_name: str, doing: str) -> None:
        log.info("%s received: %s", signal_name, doing)

    @staticmethod
    def wrote(what: str, files: int, milliseconds: float | None, *, ok: bool = True) -> None:
        if ok:
            log.info("%s: wrote %d files in %.0f ms", what, files, milliseconds or 0.0)
        else:
            log.error("%s: the files could not be written (see the error above); they stay pending", what)

    def access_restored(self, counters: dict[str, int] | None) -> None:
        """The totals a restart continues from: logged drops are counted from them, not from zero."""
        if counters is not None:
            self._dropped = (counters["dropped_not_allowed"], counters["dropped_rate_limited"])

    def access(self, counters: dict[str, int] | None) -> None:
        """Logs (at most once per flush) how many datagrams access control dropped since the last time
        (`counters`: the `access` entry of the CSM source's stats)."""
        if counters is None:
            return
        now = (counters["dropped_not_allowed"], counters["dropped_rate_limited"])
        if now == self._dropped:
            return
        not_allowed, rate_limited = (now[0] - self._dropped[0], now[1] - self._dropped[1])
        self._dropped = now
        log.warning(
            "dropped %d datagrams from sources not in --allow-from and %d over --rate-limit since the last "
            "write (totals %d and %d, in stats.json under csm.access)",
            not_allowed,
            rate_limited,
            *now,
        )
