"""The CSM source: datagrams in, observed calls out; everything else counted and dropped."""

from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector_runtime.core.records import CSM, DENIED, FAILED, OK, REPLAY
from collector_runtime.sources.csm.decoder import MAX_DATAGRAM_BYTES, CsmDecoder
from tests.conftest import SAMPLES, SECRET_ACCESS_KEY_ID, SECRET_SESSION_TOKEN, attempt, call, datagram

CURRENT_KEY = "ASIAY34FZKBOKMUTVV7A"  # encodes account 609629065308


def test_an_api_call_becomes_one_record() -> None:
    decoder = CsmDecoder()
    [record] = decoder.feed(datagram(call("S3", "ListBuckets", client_id="web")))
    assert (record.workload, record.source, record.service, record.operation) == ("web", CSM, "S3", "ListBuckets")
    assert (record.region, record.outcome, record.time_ms) == ("us-east-1", OK, 1795303566718)
    assert decoder.counters.api_call_events == 1


def test_an_attempt_alone_yields_no_record_but_is_counted() -> None:
    decoder = CsmDecoder()
    assert decoder.feed(datagram(attempt("S3", "GetObject"))) == []
    assert (decoder.counters.api_call_attempt_events, decoder.counters.events_parsed) == (1, 1)


def test_attempts_are_counted_but_calls_not_doubled() -> None:
    decoder = CsmDecoder()
    records = decoder.feed(
        datagram(attempt("S3", "GetObject"), attempt("S3", "GetObject"), call("S3", "GetObject", AttemptCount=2))
    )
    counters = decoder.counters
    assert len(records) == 1
    assert (counters.api_call_events, counters.api_call_attempt_events, counters.events_parsed) == (1, 2, 3)


def test_the_attempt_gives_its_call_the_account_and_the_bucket() -> None:
    decoder = CsmDecoder()
    fqdn = "reports.s3.eu-west-1.amazonaws.com"
    decoder.feed(datagram(attempt("S3", "GetObject", AccessKey=CURRENT_KEY, Fqdn=fqdn, Region="eu-west-1")))
    [record] = decoder.feed(datagram(call("S3", "GetObject", Region="eu-west-1")))
    assert record.account == "609629065308"
    assert record.resources == ("arn:aws:s3:::reports",)


def test_attempts_pair_with_their_calls_in_order() -> None:
    decoder = CsmDecoder()
    first, second = (attempt("S3", "GetObject", Fqdn=f"{b}.s3.amazonaws.com") for b in ("one", "two"))
    records = decoder.feed(datagram(first, second, call("S3", "GetObject"), call("S3", "GetObject")))
    assert [r.resources for r in records] == [("arn:aws:s3:::one",), ("arn:aws:s3:::two",)]


def test_retried_attempts_belong_to_one_call() -> None:
    decoder = CsmDecoder()
    tries = [attempt("S3", "GetObject", Fqdn=f"{b}.s3.amazonaws.com") for b in ("aaa", "aaa", "bbb")]
    records = decoder.feed(datagram(tries[0], tries[1], call("S3", "GetObject", AttemptCount=2), tries[2]))
    records += decoder.feed(datagram(call("S3", "GetObject")))
    assert [r.resources for r in records] == [("arn:aws:s3:::aaa",), ("arn:aws:s3:::bbb",)]


def test_a_call_without_attempts_keeps_the_last_known_account_and_names_no_resource() -> None:
    decoder = CsmDecoder()
    decoder.feed(datagram(attempt("SQS", "SendMessage", AccessKey=CURRENT_KEY), call("SQS", "SendMessage")))
    [record] = decoder.feed(datagram(call("SQS", "SendMessage")))
    assert (record.account, record.resources) == ("609629065308", ())


def test_old_format_and_foreign_keys_give_no_account() -> None:
    decoder = CsmDecoder()
    for key in (SECRET_ACCESS_KEY_ID, "FOOBARKEY", "AKIA!!!!!!!!!!!!!!!!"):
        decoder.feed(datagram(attempt("SQS", "ListQueues", AccessKey=key)))
        [record] = decoder.feed(datagram(call("SQS", "ListQueues")))
        assert record.account is None


def test_no_secret_reaches_a_record() -> None:
    decoder = CsmDecoder()
    decoder.feed(datagram(attempt("S3", "GetObject")))
    [record] = decoder.feed(datagram(call("S3", "GetObject")))
    assert SECRET_ACCESS_KEY_ID not in repr(record) and SECRET_SESSION_TOKEN not in repr(record)


def test_the_source_kind_is_the_decoders() -> None:
    [record] = CsmDecoder(source=REPLAY).feed(datagram(call("S3", "ListBuckets")))
    assert record.source == REPLAY


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
    decoder = CsmDecoder()
    assert decoder.feed(data) == []
    assert dict(decoder.counters.rejected_reasons) == {reason: 1}


@pytest.mark.parametrize(
    "region",
    ["*", "us-east-1*", "eu-west-?", "eu-west-1/x", "EU-WEST-1", "eu-west-1\n", "", "x" * 65, 5, ["eu-west-1"]],
)
def test_a_call_whose_region_no_region_could_have_is_rejected(region: object) -> None:
    """A wildcard sent as the region would otherwise reach the policy's ARNs (`arn:aws:ssm:*:...`)."""
    decoder = CsmDecoder()
    assert len(decoder.feed(datagram(attempt("SSM", "GetParameter"), call("SSM", "GetParameter")))) == 1
    bad = call("SSM", "GetParameter", Region=region)  # a known identity: checked all the same
    assert decoder.feed(datagram(attempt("SSM", "GetParameter"), bad)) == []
    assert CsmDecoder().feed(datagram(bad)) == []
    assert decoder.counters.rejected_reasons == {"invalid_region": 1}
    assert decoder.counters.api_call_events == 1


@pytest.mark.parametrize("region", ["eu-west-1", "us-iso-east-1", "aws-global", "xx-newregion-9", None])
def test_a_region_name_newer_than_the_table_or_none_is_kept(region: str | None) -> None:
    [record] = CsmDecoder().feed(datagram(call("SSM", "GetParameter", Region=region)))
    assert record.region == region


def test_a_known_identity_with_a_bad_type_is_still_rejected() -> None:
    decoder = CsmDecoder()
    decoder.feed(datagram(call("S3", "GetObject")))
    assert decoder.feed(datagram(call("S3", "GetObject", Type="Metric"))) == []
    assert decoder.counters.rejected_reasons == {"invalid_fields": 1}


def test_a_bad_line_does_not_spoil_the_good_ones() -> None:
    decoder = CsmDecoder()
    data = datagram(call("S3", "ListBuckets")) + b"\n{broken\n" + datagram(call("SQS", "ListQueues"))
    assert [r.operation for r in decoder.feed(data)] == ["ListBuckets", "ListQueues"]
    assert decoder.counters.rejected_reasons == {"not_json": 1}


def test_wrongly_typed_optional_fields_are_ignored() -> None:
    fields = {"Timestamp": "yesterday", "FinalHttpStatusCode": True}  # a wrongly typed region: rejected (above)
    [record] = CsmDecoder().feed(datagram(call("S3", "ListBuckets", **fields)))
    assert (record.time_ms, record.outcome, record.region) == (None, OK, "us-east-1")


def test_missing_client_id_is_the_default_workload() -> None:
    event = call("S3", "ListBuckets")
    del event["ClientId"]
    [record] = CsmDecoder().feed(json.dumps(event).encode())
    assert record.workload == "default"


@pytest.mark.parametrize(
    ("fields", "outcome"),
    [
        ({"FinalHttpStatusCode": 403, "FinalAwsException": "AccessDenied"}, DENIED),
        ({"FinalHttpStatusCode": 400, "FinalAwsException": "AccessDeniedException"}, DENIED),
        ({"FinalHttpStatusCode": 400, "FinalAwsException": "UnauthorizedOperation"}, DENIED),
        ({"FinalHttpStatusCode": 404, "FinalAwsException": "NoSuchKey"}, FAILED),
        ({"FinalHttpStatusCode": 200, "FinalSdkException": "ReadTimeoutError"}, FAILED),
        ({"FinalHttpStatusCode": 403}, DENIED),
        ({"FinalHttpStatusCode": 200}, OK),
    ],
)
def test_outcomes(fields: dict[str, object], outcome: str) -> None:
    [record] = CsmDecoder().feed(datagram(call("S3", "GetObject", **fields)))
    assert record.outcome == outcome


def test_denial_message_names_the_missing_action() -> None:
    message = (
        "User: arn:aws:sts::123456789012:assumed-role/app/i-0abc is not authorized to perform: "
        "sqs:ListQueues on resource: arn:aws:sqs:us-east-1:123456789012: because no identity-based policy allows it"
    )
    fields = {"FinalAwsException": "AccessDenied", "FinalAwsExceptionMessage": message}
    [record] = CsmDecoder().feed(datagram(call("SQS", "ListQueues", **fields)))
    assert (record.error_code, record.denied_actions) == ("AccessDenied", ("sqs:ListQueues",))


@pytest.mark.parametrize("sample", sorted(SAMPLES.glob("*.jsonl")), ids=lambda p: p.name)
def test_every_real_sample_is_read(sample) -> None:  # type: ignore[no-untyped-def]
    decoder = CsmDecoder()
    records = [r for line in sample.read_bytes().splitlines() for r in decoder.feed(line)]
    counters = decoder.counters
    assert counters.events_rejected == 0 and counters.events_parsed == len(sample.read_bytes().splitlines())
    assert len(records) == counters.api_call_events > 0


# --- property-based: the decoder never raises, whatever arrives ----------------------------------

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
        "AttemptCount",
        "FinalHttpStatusCode",
        "FinalAwsException",
        "FinalAwsExceptionMessage",
        "HttpStatusCode",
    ]
)
csm_like = st.dictionaries(
    csm_keys,
    st.one_of(json_values, st.sampled_from(["ApiCall", "ApiCallAttempt", "S3", "GetObject", ""])),
    max_size=15,
)


@settings(max_examples=400, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(data: bytes) -> None:
    decoder = CsmDecoder()
    decoder.feed(data)
    assert decoder.counters.events_parsed + decoder.counters.events_rejected >= 1


@settings(max_examples=400, deadline=None)
@given(st.lists(csm_like, min_size=1, max_size=5))
def test_csm_like_objects_never_raise_and_yield_clean_records(events: list[dict[str, object]]) -> None:
    decoder = CsmDecoder()
    records = decoder.feed(b"\n".join(json.dumps(e, default=str).encode() for e in events))
    assert decoder.counters.events_parsed + decoder.counters.events_rejected == len(events)
    for record in records:
        assert isinstance(record.service, str) and isinstance(record.operation, str) and record.workload
        assert record.outcome in (OK, FAILED, DENIED)
        assert all(isinstance(r, str) and r.startswith("arn:") for r in record.resources)
        assert record.account is None or (len(record.account) == 12 and record.account.isdigit())


@settings(max_examples=200, deadline=None)
@given(json_values)
def test_any_json_document_never_raises(value: object) -> None:
    assert CsmDecoder().feed(json.dumps(value).encode()) == [] or isinstance(value, dict)
