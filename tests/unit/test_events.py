from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector_runtime.core.events import (
    MAX_DATAGRAM_BYTES,
    account_from_access_key,
    parse_datagram,
    redact,
)
from tests.conftest import SAMPLES, SECRET_SESSION_TOKEN, attempt, call, datagram


def test_api_call_fields_are_read() -> None:
    result = parse_datagram(datagram(call("S3", "ListBuckets", client_id="web")))
    assert result.rejected == []
    [event] = result.events
    assert (event.type, event.client_id, event.service, event.api) == ("ApiCall", "web", "S3", "ListBuckets")
    assert event.status == 200
    assert event.region == "us-east-1"
    assert not event.failed and not event.denied


def test_attempt_keeps_fqdn_but_no_secret() -> None:
    [event] = parse_datagram(datagram(attempt("S3", "GetObject", Fqdn="b.s3.amazonaws.com"))).events
    assert event.fqdn == "b.s3.amazonaws.com"
    assert "AccessKey" not in repr(event)
    assert SECRET_SESSION_TOKEN not in repr(event)


def test_several_events_in_one_datagram() -> None:
    data = datagram(attempt("STS", "GetCallerIdentity"), call("STS", "GetCallerIdentity"))
    result = parse_datagram(data + b"\n\n")
    assert [e.type for e in result.events] == ["ApiCallAttempt", "ApiCall"]


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (b"", "empty"),
        (b"   \n ", "empty"),
        (b"not json", "not_json"),
        (b'{"Type": "ApiCall", "Service": "S3", "Api": "GetObj', "not_json"),
        (b"\xff\xfe\x00binary", "not_json"),
        (b"[1, 2, 3]", "not_an_object"),
        (b'"just a string"', "not_an_object"),
        (json.dumps(call("S3", "GetObject", Type="Metric")).encode(), "invalid_fields"),
        (json.dumps(call("S3", 42)).encode(), "invalid_fields"),
        (json.dumps(call("", "GetObject")).encode(), "invalid_fields"),
        (json.dumps(call("S3", "Get/../Object")).encode(), "invalid_fields"),
        (json.dumps(call("S3", "GetObject", ClientId=["a"])).encode(), "invalid_fields"),
        (json.dumps(call("S3", "GetObject", ClientId="x" * 256)).encode(), "invalid_fields"),
        (b"x" * (MAX_DATAGRAM_BYTES + 1), "oversized"),
    ],
)
def test_bad_datagrams_are_rejected_with_a_reason(data: bytes, reason: str) -> None:
    result = parse_datagram(data)
    assert result.events == []
    assert result.rejected == [reason]


def test_a_bad_line_does_not_spoil_the_good_ones() -> None:
    data = datagram(call("S3", "ListBuckets")) + b"\n{broken\n" + datagram(call("SQS", "ListQueues"))
    result = parse_datagram(data)
    assert [e.api for e in result.events] == ["ListBuckets", "ListQueues"]
    assert result.rejected == ["not_json"]


def test_wrongly_typed_optional_fields_are_ignored() -> None:
    [event] = parse_datagram(
        datagram(call("S3", "ListBuckets", Timestamp="yesterday", FinalHttpStatusCode=True, Region=7))
    ).events
    assert (event.timestamp_ms, event.status, event.region) == (None, None, None)


def test_missing_client_id_is_the_empty_workload() -> None:
    record = call("S3", "ListBuckets")
    del record["ClientId"]
    [event] = parse_datagram(json.dumps(record).encode()).events
    assert event.client_id == ""


@pytest.mark.parametrize(
    ("fields", "failed", "denied"),
    [
        ({"FinalHttpStatusCode": 403, "FinalAwsException": "AccessDenied"}, True, True),
        ({"FinalHttpStatusCode": 400, "FinalAwsException": "AccessDeniedException"}, True, True),
        ({"FinalHttpStatusCode": 400, "FinalAwsException": "UnauthorizedOperation"}, True, True),
        ({"FinalHttpStatusCode": 404, "FinalAwsException": "NoSuchKey"}, True, False),
        ({"FinalHttpStatusCode": 200, "FinalSdkException": "ReadTimeoutError"}, True, False),
        ({"FinalHttpStatusCode": 403}, True, True),
        ({"FinalHttpStatusCode": 200}, False, False),
    ],
)
def test_failed_and_denied(fields: dict[str, object], failed: bool, denied: bool) -> None:
    [event] = parse_datagram(datagram(call("S3", "GetObject", **fields))).events
    assert (event.failed, event.denied) == (failed, denied)


def test_denial_message_names_the_missing_action() -> None:
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/app/i-0abc is not authorized to perform: "
        "sqs:ListQueues on resource: arn:aws:sqs:us-east-1:123456789012: because no identity-based policy allows it"
    )
    [event] = parse_datagram(
        datagram(call("SQS", "ListQueues", FinalAwsException="AccessDenied", FinalAwsExceptionMessage=message))
    ).events
    assert event.actions_named_in_denial() == ["sqs:ListQueues"]


def test_redact_drops_secrets_and_keeps_the_account() -> None:
    record = attempt("S3", "GetObject", AccessKey="ASIAY34FZKBOKMUTVV7A")
    clean = redact(dict(record))
    assert "AccessKey" not in clean and "SessionToken" not in clean
    assert clean["AccessKeyAccount"] == "609629065308"
    assert clean["Api"] == "GetObject"


def test_account_from_access_key_rejects_other_strings() -> None:
    assert account_from_access_key("FOOBARKEY") is None
    assert account_from_access_key(None) is None
    assert account_from_access_key("AKIA!!!!!!!!!!!!!!!!") is None


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.jsonl")), ids=lambda p: p.name)
def test_every_real_sample_parses(sample) -> None:  # type: ignore[no-untyped-def]
    for line in sample.read_bytes().splitlines():
        result = parse_datagram(line)
        assert result.rejected == [] and len(result.events) == 1


# --- property-based: the parser never raises, whatever arrives ---------------------------------

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4),
    max_leaves=20,
)
csm_keys = st.sampled_from(
    [
        "Version",
        "ClientId",
        "Type",
        "Service",
        "Api",
        "Timestamp",
        "Region",
        "Fqdn",
        "AccessKey",
        "SessionToken",
        "FinalHttpStatusCode",
        "FinalAwsException",
        "FinalAwsExceptionMessage",
        "HttpStatusCode",
    ]
)
csm_like = st.dictionaries(
    csm_keys,
    st.one_of(json_values, st.sampled_from(["ApiCall", "ApiCallAttempt", "S3", "GetObject", ""])),
    max_size=14,
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    result = parse_datagram(data)
    assert len(result.events) + len(result.rejected) >= 1


@settings(max_examples=400, deadline=None)
@given(st.lists(csm_like, min_size=1, max_size=5))
def test_csm_like_objects_never_raise_and_yield_clean_events(records: list[dict[str, object]]) -> None:
    data = b"\n".join(json.dumps(r, default=str).encode() for r in records)
    result = parse_datagram(data)
    assert len(result.events) + len(result.rejected) == len(records)
    for event in result.events:
        assert event.type in ("ApiCall", "ApiCallAttempt")
        assert isinstance(event.service, str) and isinstance(event.api, str) and isinstance(event.client_id, str)
        assert event.status is None or isinstance(event.status, int)


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_document_never_raises(value: object) -> None:
    result = parse_datagram(json.dumps(value).encode())
    assert result.events == [] or isinstance(value, dict)
