"""The proxy's pure pieces around the matcher: which hosts it intercepts, what a response says."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector_runtime.core.records import DENIED, FAILED, OK
from collector_runtime.sources.proxy.hosts import HostMatcher, HostPatternError, host_regex
from collector_runtime.sources.proxy.responses import read_response


@pytest.mark.parametrize(
    ("host", "port", "intercepted"),
    [
        ("s3.eu-west-1.amazonaws.com", 443, True),
        ("my-bucket.s3.eu-west-1.amazonaws.com", 443, True),
        ("DynamoDB.EU-WEST-1.AmazonAWS.com", 443, True),
        ("sts.cn-north-1.amazonaws.com.cn", 443, True),
        ("s3.dualstack.eu-west-1.api.aws", 443, True),
        ("sqs.us-iso-east-1.c2s.ic.gov", 443, True),  # every partition's endpoints (botocore's table)
        ("s3.eusc-de-east-1.amazonaws.eu", 443, True),
        ("s3.dualstack.cn-north-1.api.amazonwebservices.com.cn", 443, True),
        ("c2s.ic.gov.evil.example", 443, False),
        ("sqs.eu-west-1.amazonaws.com.", 80, True),
        ("evilamazonaws.com", 443, False),
        ("amazonaws.com.evil.example", 443, False),
        ("registry.terraform.io", 443, False),
        ("127.0.0.1", 8443, False),
    ],
)
def test_only_aws_api_hosts_are_intercepted(host: str, port: int, intercepted: bool) -> None:
    assert HostMatcher().intercepts(host, port) is intercepted


def test_extra_patterns_add_hosts_with_or_without_a_port() -> None:
    hosts = HostMatcher(["*.aws.internal", "localhost.localstack.cloud:4566"])
    assert hosts.intercepts("s3.aws.internal", 443)
    assert hosts.intercepts("localhost.localstack.cloud", 4566)
    assert not hosts.intercepts("localhost.localstack.cloud", 443)
    assert not hosts.intercepts("aws.internal.example", 443)


@pytest.mark.parametrize("pattern", ["", "a b", "x/y", "(.*)", "host:port", "^evil$"])
def test_a_pattern_that_is_no_host_glob_is_refused(pattern: str) -> None:
    with pytest.raises(HostPatternError):
        host_regex(pattern)


def test_success_is_ok_without_reading_the_body() -> None:
    assert read_response(200, {}, b"<Code>AccessDenied</Code>") == (200, OK, None, (), (), None, None)


def test_the_error_code_comes_from_the_header_then_json_then_xml() -> None:
    header = {"x-amzn-errortype": "ResourceNotFoundException:http://internal.amazon.com/coral/"}
    assert read_response(400, header, b"{}").error_code == "ResourceNotFoundException"
    body = json.dumps({"__type": "com.amazonaws.dynamodb.v20120810#ConditionalCheckFailedException"}).encode()
    assert read_response(400, {}, body)[:5] == (400, FAILED, "ConditionalCheckFailedException", (), ())
    assert (
        read_response(404, {}, b"<Error><Code>NoSuchKey</Code><Message>x</Message></Error>").error_code == "NoSuchKey"
    )
    assert read_response(404, {}, None)[:5] == (404, FAILED, None, (), ())  # HEAD, or a streamed body


def test_an_access_denied_names_its_action_and_resource() -> None:
    message = (
        "User: arn:aws:iam::123456789012:user/ci is not authorized to perform: kms:Decrypt on resource: "
        "arn:aws:kms:eu-west-1:123456789012:key/abc because no identity-based policy allows it"
    )
    body = f"<Error><Code>AccessDenied</Code><Message>{message}</Message></Error>".encode()
    info = read_response(403, {}, body)
    assert (info.outcome, info.error_code, info.denied_actions) == (DENIED, "AccessDenied", ("kms:Decrypt",))
    assert info.denied_resources == ("arn:aws:kms:eu-west-1:123456789012:key/abc",)
    json_body = json.dumps({"__type": "AccessDeniedException", "message": message}).encode()
    assert read_response(400, {}, json_body).denied_actions == ("kms:Decrypt",)


def test_a_failed_call_that_is_not_denied_names_nothing() -> None:
    body = b"<Error><Code>NoSuchBucket</Code><Message>not authorized to perform: s3:GetObject</Message></Error>"
    assert read_response(404, {}, body).denied_actions == ()


def test_a_code_that_looks_like_no_code_is_dropped() -> None:
    assert read_response(500, {}, b"<Code>not a code; DROP TABLE</Code>").error_code is None
    assert read_response(500, {}, b'{"__type": 42, "message": ["x"]}').error_code is None


@given(
    st.integers(100, 599),
    st.dictionaries(st.sampled_from(["x-amzn-errortype", "content-type"]), st.text()),
    st.binary(),
)
def test_no_response_makes_it_raise(status: int, headers: dict[str, str], body: bytes) -> None:
    info = read_response(status, headers, body)
    assert info.outcome in (OK, FAILED, DENIED)


@pytest.mark.timeout(20)
def test_a_glob_with_many_stars_cannot_make_matching_backtrack() -> None:
    """--intercept-host globs become regexes that mitmproxy searches in every client's host name: a glob with
    many `*` (`a*a*a*...b`) would backtrack polynomially on a long host, so more than MAX_GLOB_STARS is refused
    and runs of `*` count as one."""
    with pytest.raises(HostPatternError, match="at most"):
        host_regex("a*" * 12 + "b")
    assert host_regex("**.internal") == host_regex("*.internal")
    worst = HostMatcher(["a*a*a.example", "x*y*z*"])  # the most stars allowed, against the longest host names
    assert not worst.intercepts("a" * 250 + ".exampl", 443)
    assert not worst.intercepts("x" + "y" * 252, 443)
    assert worst.intercepts("abaca.example", 443) and worst.intercepts("xyz", 443)
