"""CSM datagrams decoded in batches (the UDP hot path) mean exactly what they mean one by one, whichever JSON
library decodes them; the socket hands them over in arrival order, in bounded batches."""

from __future__ import annotations

import json
import socket
from collections.abc import Sequence

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from collector_runtime.sources.csm import decoder as decoder_module
from collector_runtime.sources.csm import fields, udp
from collector_runtime.sources.csm.decoder import CsmDecoder
from collector_runtime.sources.csm.udp import BATCH, UdpListener
from tests.test_pipeline_fuzz import datagrams, records

FUZZ = settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def call(api: str, **fields: object) -> bytes:
    event = {"Type": "ApiCall", "ClientId": "app", "Service": "SQS", "Api": api, "Region": "eu-west-1", **fields}
    return json.dumps(event).encode()


@FUZZ
@given(st.lists(datagrams, max_size=12))
def test_a_batch_means_what_its_datagrams_mean_one_by_one(batch: list[bytes]) -> None:
    together, apart = CsmDecoder(), CsmDecoder()
    calls = together.feed_batch(batch)
    assert calls == [call for data in batch for call in apart.feed(data)]
    assert together.counters.as_dict() == apart.counters.as_dict()


@FUZZ
@given(st.lists(records(), min_size=1, max_size=8))
def test_the_standard_library_decodes_what_msgspec_decodes(events: list[dict[str, object]]) -> None:
    batch = [json.dumps(event, default=str).encode() for event in events]
    fast = CsmDecoder()
    expected = fast.feed_batch(batch)
    plain = CsmDecoder()
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(decoder_module, "decode_batch", fields.decode_batch_plain)
        patch.setattr(decoder_module, "decode_event", fields.decode_event_plain)
        assert plain.feed_batch(batch) == expected
    assert plain.counters.as_dict() == fast.counters.as_dict()


def test_a_bad_datagram_is_counted_and_its_neighbours_still_count() -> None:
    decoder = CsmDecoder()
    batch = [call("SendMessage"), b"{not json", b"[1, 2]", b"", call("ReceiveMessage") + b"\n" + call("DeleteMessage")]
    assert [c.operation for c in decoder.feed_batch(batch)] == ["SendMessage", "ReceiveMessage", "DeleteMessage"]
    counters = decoder.counters
    assert counters.datagrams_received == 5
    assert counters.rejected_reasons == {"not_json": 1, "not_an_object": 1, "empty": 1}
    assert counters.api_call_events == 3


def test_a_decoded_event_holds_only_the_fields_read_never_a_secret() -> None:
    secret = {"AccessKey": "ASIAEXAMPLEKEY", "SessionToken": "IQoJb3JpZ2luX2VjEXAMPLE", "UserAgent": "x" * 300}
    event = fields.decode_event(call("SendMessage", **secret))
    held = [getattr(event, name) for name in fields.FIELDS]
    assert "IQoJb3JpZ2luX2VjEXAMPLE" not in held
    assert not hasattr(event, "SessionToken")
    assert event.Api == "SendMessage"


def test_the_timestamp_is_kept_only_within_64_bits() -> None:
    [kept] = CsmDecoder().feed(call("SendMessage", Timestamp=2**63 - 1))
    [dropped] = CsmDecoder().feed(call("SendMessage", Timestamp=2**64))
    assert (kept.time_ms, dropped.time_ms) == (2**63 - 1, None)


@pytest.mark.parametrize("system_call", ["recvmmsg", "recv"])
def test_the_socket_hands_datagrams_over_in_order_in_bounded_batches(
    system_call: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    if system_call == "recv":  # where the C library has no recvmmsg
        monkeypatch.setattr(udp, "batch_receiver", lambda fd: None)
    listener = UdpListener("127.0.0.1", 0, receive_buffer=1 << 22)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        assert (listener._batches is not None) == (system_call == "recvmmsg")
        sent = [b"%d" % n * (n % 7 + 1) for n in range(2 * BATCH + 7)] + [b"x" * 65_507, b""]
        for data in sent:
            sender.sendto(data, listener.address)
        sizes: list[int] = []
        received: list[bytes] = []

        def handle(batch: Sequence[bytes | memoryview]) -> None:
            sizes.append(len(batch))
            received.extend(map(bytes, batch))  # a memoryview is valid only during the call: copied

        for _ in range(100):
            listener.drain(handle)
            if len(received) == len(sent):
                break
        assert received == sent
        assert max(sizes) == BATCH
        assert listener.drain(handle) == 0  # nothing queued: nothing handed over, no empty batch
        assert all(sizes)
    finally:
        sender.close()
        listener.close()


def test_views_of_the_receive_buffer_decode_like_bytes() -> None:
    batch = [call("SendMessage"), b"{not json", call("ReceiveMessage") + b"\n" + call("DeleteMessage")]
    buffer = bytearray(b"".join(batch))
    view, views, start = memoryview(buffer), [], 0
    for data in batch:
        views.append(view[start : start + len(data)])
        start += len(data)
    from_views, from_bytes = CsmDecoder(), CsmDecoder()
    assert from_views.feed_batch(views) == from_bytes.feed_batch(batch)
    assert from_views.counters.as_dict() == from_bytes.counters.as_dict()


def test_access_control_keeps_only_accepted_senders_datagrams() -> None:
    listener = UdpListener("127.0.0.1", 0, receive_buffer=1 << 20)
    sender = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        for n in range(5):
            sender.sendto(b"%d" % n, listener.address)
        batches: list[list[bytes]] = []
        read = 0
        for _ in range(100):
            read += listener.drain_from(lambda source: False, batches.append)
            if read == 5:
                break
        assert (read, batches) == (5, [])
    finally:
        sender.close()
        listener.close()


def test_identities_share_one_copy_of_their_names() -> None:
    """A thousand workloads' operations keep one string per service, operation and ClientId, not one per
    identity (each as the datagram that introduced it: issue 21's memory goal)."""
    decoder = CsmDecoder()
    first = decoder.feed(call("SendMessage", ClientId="worker"))[0]
    second = decoder.feed(call("ReceiveMessage", ClientId="worker"))[0]
    other = decoder.feed(call("SendMessage", ClientId="other"))[0]
    assert (first.workload, first.service) == (second.workload, second.service)
    assert first.workload is second.workload and first.service is second.service
    assert other.operation is first.operation and other.service is first.service
