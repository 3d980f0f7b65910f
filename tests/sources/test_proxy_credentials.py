"""The SigV4 credential scope: signing name, region and the account an access key id encodes."""

from __future__ import annotations

import pytest

from collector_runtime.core.accounts import account_from_access_key
from collector_runtime.sources.proxy.credentials import (
    CredentialScope,
    credential_scope,
    sigv2_account,
)
from collector_runtime.sources.proxy.request import http_request

SIGV4 = (
    "AWS4-HMAC-SHA256 Credential=ASIAY34FZKBOKMUTVV7A/20260101/eu-west-1/s3/aws4_request, "
    "SignedHeaders=host;x-amz-date, Signature=0123abcd"
)


def request(headers: dict[str, str] | None = None, query: str = "") -> object:
    return http_request("GET", "example.amazonaws.com", "/", query, headers=headers or {})


@pytest.mark.parametrize(
    ("headers", "query", "expected"),
    [
        ({"Authorization": SIGV4}, "", CredentialScope("s3", "eu-west-1", "609629065308")),
        (
            {"authorization": "AWS4-ECDSA-P256-SHA256 Credential=ASIAY34FZKBOKMUTVV7A/20260101/s3/aws4_request, x"},
            "",
            CredentialScope("s3", None, "609629065308"),
        ),
        (
            {
                "Authorization": "AWS4-ECDSA-P256-SHA256 Credential=ASIAY34FZKBOKMUTVV7A/20260101/s3/aws4_request",
                "X-Amz-Region-Set": "us-west-2",
            },
            "",
            CredentialScope("s3", "us-west-2", "609629065308"),
        ),
        (
            {},
            "X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20260101%2Fus-east-1%2Fsqs"
            "%2Faws4_request&X-Amz-Signature=abc",
            CredentialScope("sqs", "us-east-1", None),
        ),
    ],
    ids=["sigv4-header", "sigv4a-wildcard", "sigv4a-one-region", "presigned-old-key"],
)
def test_scope_from_header_or_presigned_query(headers: dict[str, str], query: str, expected: CredentialScope) -> None:
    assert credential_scope(request(headers, query)) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "AWS AKIAIOSFODNN7EXAMPLE:frJIUN8DYpKDtOLCwo//yllqDzg="},  # SigV2 (S3 legacy)
        {"Authorization": "Bearer eyJhbGciOi"},  # CodeCatalyst
        {"Authorization": "AWS4-HMAC-SHA256 Credential=garbage"},
    ],
    ids=["unsigned", "sigv2", "bearer", "malformed"],
)
def test_no_scope(headers: dict[str, str]) -> None:
    assert credential_scope(request(headers)) is None  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("key_id", "account"),
    [
        ("ASIAY34FZKBOKMUTVV7A", "609629065308"),  # the documented example
        ("AKIAIOSFODNN7EXAMPLE", None),  # old format (AKIAI...): no account in it
        ("AKIAJ3456789ABCDEFGH", None),  # old format (AKIAJ...)
        ("AIDAY34FZKBOKMUTVV7A", None),  # a user id, not an access key
        ("ASIAY34FZKBOKMUTVV7", None),  # too short
        ("ASIAY34FZKBOKMUTVV7!", None),  # not base32
    ],
)
def test_account_from_access_key(key_id: str, account: str | None) -> None:
    assert account_from_access_key(key_id) == account


def test_scope_never_holds_the_key_id() -> None:
    scope = credential_scope(request({"Authorization": SIGV4}))  # type: ignore[arg-type]
    assert "ASIAY34FZKBOKMUTVV7A" not in repr(scope)


def test_sigv2_yields_only_the_account() -> None:
    assert sigv2_account(request({"Authorization": "AWS ASIAY34FZKBOKMUTVV7A:c2lnbmF0dXJl"})) == "609629065308"  # type: ignore[arg-type]
    assert sigv2_account(request(query="AWSAccessKeyId=ASIAY34FZKBOKMUTVV7A&Signature=x")) == "609629065308"  # type: ignore[arg-type]
    assert sigv2_account(request({"Authorization": SIGV4})) is None  # type: ignore[arg-type]
