"""Intercepted requests as records (CallRecorder), on the requests real SDKs sent (tests/fixtures/proxy)."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from collector_runtime.core.aggregate import Aggregator
from collector_runtime.core.mapping import ActionMap
from collector_runtime.core.records import DEFAULT_WORKLOAD, OK, PROXY
from collector_runtime.sources.proxy.calls import NO_RESPONSE, CallRecorder, workload_of
from collector_runtime.sources.proxy.request import http_request
from collector_runtime.sources.proxy.responses import read_response
from collector_runtime.sources.proxy.service_models import ServiceModels
from tests.proxy_requests import ACCESS_KEY_ID, ACCOUNT, SESSION_TOKEN, capturing_client, request_of

OK_RESPONSE = read_response(200, {}, b"")


@pytest.fixture(scope="module")
def recorder(action_map: ActionMap) -> CallRecorder:
    return CallRecorder(ServiceModels(), action_map)


def sent(session: Any, service: str, operation: str, params: dict[str, Any]) -> Any:
    with capturing_client(session, service) as client:
        return request_of(client, operation, params)


def test_a_request_becomes_a_record_with_its_resources_and_members(recorder: CallRecorder, session: Any) -> None:
    request = sent(session, "s3", "PutObject", {"Bucket": "b", "Key": "k/1", "Body": b"SECRET", "Tagging": "a=b"})
    call = recorder.record(request, "ci-deploy", OK_RESPONSE, 1)
    assert call[:8] == ("ci-deploy", PROXY, "S3", "PutObject", "eu-west-1", ACCOUNT, OK, None)
    assert call.resources == ("arn:aws:s3:::b", "arn:aws:s3:::b/k/1")
    assert {"Bucket", "Key", "Body", "Tagging"} <= call.request_members
    assert "SECRET" not in repr(call) and ACCESS_KEY_ID not in repr(call) and SESSION_TOKEN not in repr(call)


def test_a_passed_role_is_a_resource(recorder: CallRecorder, session: Any) -> None:
    role = f"arn:aws:iam::{ACCOUNT}:role/build"
    params = {"FunctionName": "f", "Role": role, "Code": {"ZipFile": b"x"}, "Runtime": "python3.12", "Handler": "h"}
    call = recorder.record(sent(session, "lambda", "CreateFunction", params), None, OK_RESPONSE)
    assert role in call.resources
    assert f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:f" in call.resources


def test_without_a_proxy_user_the_workload_is_the_signer_never_its_key(session: Any) -> None:
    request = sent(session, "sqs", "ListQueues", {})
    name = workload_of(None, request)
    assert name == f"{ACCOUNT}-temporary-credentials"  # a temporary key: its account, not the key
    assert ACCESS_KEY_ID not in name and name == workload_of("", request) == workload_of("a\nb", request)
    assert workload_of(None, http_request("GET", "sts.amazonaws.com", "/", "", headers={})) == DEFAULT_WORKLOAD


def test_an_unmatched_request_is_recorded_as_an_operation_no_mapping_knows(
    recorder: CallRecorder, action_map: ActionMap
) -> None:
    credential = f"{ACCESS_KEY_ID}/20261201/eu-west-1/s3/aws4_request"
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0"}
    call = recorder.record(
        http_request("PATCH", "s3.eu-west-1.amazonaws.com", "/x", "", headers=headers), "w", OK_RESPONSE
    )
    assert (call.service, call.operation, call.account) == ("s3", "PATCH (no operation matches)", ACCOUNT)
    aggregator = Aggregator(action_map)
    aggregator.add(call)
    assert aggregator.stats.unmapped == {("s3", "PATCH (no operation matches)"): 1}


@pytest.mark.parametrize("region", ["*", "eu-west-1*", "eu-west-?", "EU-WEST-1", "x" * 65])
def test_a_signature_whose_region_no_region_could_have_is_recorded_unmatched(
    recorder: CallRecorder, action_map: ActionMap, region: str
) -> None:
    """A wildcard in the credential scope would otherwise reach the policy (`arn:aws:dynamodb:*:...`)."""
    credential = f"{ACCESS_KEY_ID}/20261201/{region}/dynamodb/aws4_request"
    headers = {
        "Authorization": f"AWS4-HMAC-SHA256 Credential={credential}, SignedHeaders=host, Signature=0",
        "X-Amz-Target": "DynamoDB_20120810.DescribeTable",
    }
    request = http_request(
        "POST", "dynamodb.eu-west-1.amazonaws.com", "/", "", headers=headers, body=b'{"TableName":"t"}'
    )
    call = recorder.record(request, "w", OK_RESPONSE)
    assert (call.service, call.operation, call.region, call.resources) == (
        "dynamodb",
        "POST (the signature names no region)",
        None,
        (),
    )
    aggregator = Aggregator(action_map)
    aggregator.add(call)
    assert aggregator.stats.unmapped == {("dynamodb", "POST (the signature names no region)"): 1}


def test_a_request_without_response_is_a_failed_call(recorder: CallRecorder, session: Any) -> None:
    before = recorder.counters.requests_without_response
    call = recorder.record(sent(session, "sqs", "ListQueues", {}), "w", NO_RESPONSE)
    assert call.failed and recorder.counters.requests_without_response == before + 1


@settings(max_examples=300, deadline=None)
@given(
    method=st.sampled_from(["GET", "PUT", "POST", "DELETE", "HEAD", "X\x00", "patch"]),
    host=st.sampled_from(["s3.amazonaws.com", "b.s3.eu-west-1.amazonaws.com", "dynamodb.eu-west-1.amazonaws.com", "x"]),
    path=st.text(max_size=40),
    query=st.text(max_size=40),
    headers=st.dictionaries(
        st.sampled_from(["authorization", "x-amz-target", "content-type", "x-amz-region-set"]), st.text(max_size=80)
    ),
    body=st.binary(max_size=200),
)
def test_hostile_requests_never_make_it_raise(
    recorder: CallRecorder, method: str, host: str, path: str, query: str, headers: dict[str, str], body: bytes
) -> None:
    call = recorder.record(http_request(method, host, path, query, headers=headers, body=body), None, OK_RESPONSE)
    assert call.source == PROXY and call.workload
