"""CSM's call/attempt join in either order: some SDKs send an `ApiCall` before its `ApiCallAttempt`s
(which carry the access key, hence the account, and the host, hence an S3 bucket). Real datagrams from
a real boto3 client, replayed as sent and with every call moved before its attempts, give the same
records once the client's first call showed the order; held calls whose attempts never come are
released (by the next call of the identity, when old, or when the buffer is full) and counted."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from typing import Any

import pytest
from moto import mock_aws

from collector_runtime.commands.demo import csm_session
from collector_runtime.core.accounts import example_access_key
from collector_runtime.core.records import ObservedCall
from collector_runtime.sources.csm.decoder import MAX_HOLD_SECONDS, CsmDecoder
from tests.conftest import attempt, call, datagram

ACCOUNT = "609629065308"
KEY = example_access_key(ACCOUNT)


@pytest.fixture(scope="module")
def captured() -> Iterator[list[bytes]]:
    """The datagrams a real boto3 client sends (botocore: each attempt before its call)."""
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as receiver, mock_aws():
        receiver.bind(("127.0.0.1", 0))
        receiver.settimeout(5)
        session = csm_session(receiver.getsockname()[1], "app", "eu-west-1", access_key_id=KEY)
        s3 = session.client("s3")
        s3.create_bucket(Bucket="join-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
        s3.put_object(Bucket="join-data", Key="a.txt", Body=b"a")
        s3.get_object(Bucket="join-data", Key="a.txt")["Body"].read()
        sqs = session.client("sqs")
        url = sqs.create_queue(QueueName="join")["QueueUrl"]
        sqs.send_message(QueueUrl=url, MessageBody="m")
        datagrams = []
        while len([d for d in datagrams if json.loads(d)["Type"] == "ApiCall"]) < 5:
            datagrams.append(receiver.recv(65_535))
        yield datagrams


def calls_first(datagrams: list[bytes]) -> list[bytes]:
    """The same datagrams with each ApiCall moved before the attempts that preceded it."""
    reordered: list[bytes] = []
    attempts: list[bytes] = []
    for data in datagrams:
        if json.loads(data)["Type"] == "ApiCallAttempt":
            attempts.append(data)
        else:
            reordered += [data, *attempts]
            attempts = []
    return reordered + attempts


def decoded(datagrams: list[bytes], decoder: CsmDecoder) -> list[ObservedCall]:
    records = [record for data in datagrams for record in decoder.feed(data)]
    return records + decoder.release_held(None)


def by_operation(records: list[ObservedCall]) -> list[ObservedCall]:
    return sorted(records, key=lambda r: (r.time_ms or 0, r.operation))


def test_calls_sent_before_their_attempts_get_the_same_account_and_bucket(captured: list[bytes]) -> None:
    reordered = calls_first(captured)
    assert reordered != captured
    as_sent = by_operation(decoded(captured, CsmDecoder()))
    decoder = CsmDecoder()
    received = by_operation(decoded(reordered, decoder))
    assert received[1:] == as_sent[1:]  # the first call shows the order: it comes before any attempt
    assert received[0] == as_sent[0]._replace(account=None, resources=())
    assert {r.account for r in as_sent} == {ACCOUNT}
    assert ("arn:aws:s3:::join-data",) in {r.resources for r in as_sent if r.operation == "GetObject"}
    assert (decoder.counters.api_calls_unjoined, decoder.counters.api_calls_before_attempts) == (1, 4)


def teach_calls_first(decoder: CsmDecoder, client_id: str = "app") -> None:
    """A call, then the attempt it made: the client sends calls first."""
    taught = datagram(call("STS", "GetCallerIdentity", client_id, Timestamp=1, Latency=5))
    decoder.feed(taught)
    decoder.feed(datagram(attempt("STS", "GetCallerIdentity", client_id, AccessKey=KEY, Timestamp=2)))


def test_attempts_first_clients_get_calls_at_once() -> None:
    decoder = CsmDecoder()
    assert decoder.feed(datagram(call("SQS", "SendMessage", Timestamp=1, Latency=5)))
    decoder.feed(datagram(attempt("SQS", "SendMessage", AccessKey=KEY, Timestamp=9)))  # the next call's
    [record] = decoder.feed(datagram(call("SQS", "SendMessage", Timestamp=8, Latency=5)))
    assert record.account == ACCOUNT
    assert decoder.counters.api_calls_before_attempts == 0


def test_retried_attempts_after_their_call_belong_to_it() -> None:
    decoder = CsmDecoder()
    teach_calls_first(decoder)
    events = [
        call("S3", "GetObject", AttemptCount=2, Timestamp=1000, Latency=50),
        attempt("S3", "GetObject", Fqdn="aaa.s3.amazonaws.com", Timestamp=1001),
        attempt("S3", "GetObject", Fqdn="aaa.s3.amazonaws.com", Timestamp=1030),
        call("S3", "GetObject", Timestamp=2000, Latency=10),
        attempt("S3", "GetObject", Fqdn="bbb.s3.amazonaws.com", Timestamp=2001),
    ]
    records = [r for e in events for r in decoder.feed(datagram(e))]
    assert [r.resources for r in records] == [("arn:aws:s3:::aaa",), ("arn:aws:s3:::bbb",)]


def test_a_call_whose_attempt_never_comes_is_released_by_the_next_call_and_counted() -> None:
    decoder = CsmDecoder()
    teach_calls_first(decoder)
    decoder.feed(datagram(call("SQS", "SendMessage", Timestamp=10, Latency=5)))
    decoder.feed(datagram(attempt("SQS", "SendMessage", AccessKey=KEY, Timestamp=11)))
    assert decoder.feed(datagram(call("SQS", "SendMessage", Timestamp=100, Latency=5))) == []
    records = decoder.feed(datagram(call("SQS", "SendMessage", Timestamp=200, Latency=5)))
    assert [(r.time_ms, r.account) for r in records] == [(100, ACCOUNT)]
    assert decoder.counters.api_calls_unjoined == 2  # and the call that taught the order


def test_held_calls_are_released_when_old_without_a_clock() -> None:
    decoder = CsmDecoder()
    teach_calls_first(decoder)
    assert decoder.feed(datagram(call("S3", "ListBuckets"))) == []
    assert decoder.release_held(100.0) == []  # held from now on
    assert decoder.release_held(100.0 + MAX_HOLD_SECONDS / 2) == []
    [record] = decoder.release_held(100.0 + MAX_HOLD_SECONDS)
    assert (record.operation, record.account) == ("ListBuckets", None)
    assert (decoder.counters.api_calls_before_attempts, decoder.counters.api_calls_unjoined) == (1, 2)


def test_held_calls_are_bounded() -> None:
    decoder = CsmDecoder()
    teach_calls_first(decoder)
    released: list[Any] = []
    for n in range(20_000):
        released += decoder.feed(datagram(call("S3", f"Op{n}")))
    assert len(released) + len(decoder.release_held(None)) == 20_000
    assert released  # the oldest went out as the buffer filled
