"""The loop's inbox: every batch put from another thread reaches the loop, with one wake-up per round of the loop,
not one per batch (each wake-up is a send() that costs the putting thread a round trip through the GIL)."""

from __future__ import annotations

import select
import threading

from collector_runtime.core.records import OTLP, ObservedCall
from collector_runtime.loop_inbox import LoopInbox


def batch(index: int) -> list[ObservedCall]:
    return [ObservedCall(f"app-{index}", OTLP, "SQS", "SendMessage")]


def wake_bytes(inbox: LoopInbox) -> int:
    count = 0
    while select.select([inbox.reader], [], [], 0)[0]:
        count += len(inbox.reader.recv(4096))
    return count


def test_batches_put_before_the_loop_takes_them_wake_it_once() -> None:
    inbox = LoopInbox()
    taken: list[list[ObservedCall]] = []
    try:
        for index in range(50):
            inbox.put(batch(index))
        assert wake_bytes(inbox) == 1
        assert inbox.take_all(taken.append) and len(taken) == 50
        inbox.put(batch(50))  # after the loop took them: a new wake-up
        assert wake_bytes(inbox) == 1
        assert inbox.take_all(taken.append) and len(taken) == 51
    finally:
        inbox.close()


def test_no_batch_put_while_the_loop_drains_is_left_behind() -> None:
    inbox = LoopInbox()
    taken: list[list[ObservedCall]] = []
    total = 4 * 2_000

    def put_many(offset: int) -> None:
        for index in range(offset, offset + 2_000):
            inbox.put(batch(index))

    threads = [threading.Thread(target=put_many, args=(i * 2_000,)) for i in range(4)]
    try:
        for thread in threads:
            thread.start()
        while len(taken) < total:  # the loop: it takes batches only when woken
            assert select.select([inbox.reader], [], [], 10)[0], f"not woken with {total - len(taken)} queued"
            inbox.clear_wakeups()
            inbox.take_all(taken.append)
        for thread in threads:
            thread.join()
        assert sorted(b[0].workload for b in taken) == sorted(b[0].workload for b in map(batch, range(total)))
    finally:
        inbox.close()
