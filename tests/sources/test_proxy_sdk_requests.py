"""Requests recorded from real SDKs through mitmproxy (JS v3, Go v2, AWS CLI v1 and v2, boto3; fake
credentials, signatures cut), replayed through the matcher; and the sweep for secrets in what it returns.

The recording: the scratch prototype's proxy with `--capture` (see the proxy notes); each row carries the
call its client made (`expect`) and the identifiers it named (`expect_identifiers`)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.sources.proxy.matcher import MatchedCall, match_request
from collector_runtime.sources.proxy.request import HttpRequest, http_request
from collector_runtime.sources.proxy.service_models import ServiceModels
from tests.proxy_requests import ACCESS_KEY_ID, ACCOUNT, SESSION_TOKEN, capturing_client, request_of

FIXTURES = Path(__file__).parents[1] / "fixtures" / "proxy"


def sent(session: Any, service: str, operation: str, params: dict[str, Any]) -> HttpRequest:
    with capturing_client(session, service) as client:
        return request_of(client, operation, params)


def recorded() -> Iterator[dict[str, Any]]:
    with (FIXTURES / "sdk-requests.jsonl").open() as lines:
        yield from (json.loads(line) for line in lines)


def replay(row: dict[str, Any]) -> HttpRequest:
    body = base64.b64decode(row["body_b64"])
    return http_request(row["method"], row["host"], row["path"], row["query"], headers=row["headers"], body=body)


@pytest.mark.parametrize("row", list(recorded()), ids=lambda r: f"{r['client']}-{r['expect']}")
def test_requests_of_other_sdks(service_models: ServiceModels, row: dict[str, Any]) -> None:
    result = match_request(replay(row), service_models)
    assert isinstance(result, MatchedCall), result
    assert f"{result.service}.{result.operation}" == row["expect"]
    assert result.identifiers == row["expect_identifiers"]
    assert result.account == ACCOUNT


SECRETS = ["SECRET-OBJECT-BYTES", "JS-SECRET-BYTES", "GO-SECRET-BYTES", "SSM-SECRET", "SM-SECRET", "CLI-SQS-SECRET"]


def test_no_secret_reaches_a_result(service_models: ServiceModels, session: Any) -> None:
    """Secret values, bodies, keys, tokens and signatures in the requests never appear in what is matched."""
    requests = [replay(row) for row in recorded()] + [
        sent(session, "secretsmanager", "PutSecretValue", {"SecretId": "db", "SecretString": "SM-SECRET-1"}),
        sent(session, "ssm", "PutParameter", {"Name": "/p", "Value": "SSM-SECRET-2", "Type": "SecureString"}),
        sent(session, "s3", "PutObject", {"Bucket": "b", "Key": "k", "Body": b"SECRET-OBJECT-BYTES"}),
        sent(
            session,
            "rds",
            "CreateDBInstance",
            {"DBInstanceIdentifier": "d", "DBInstanceClass": "c", "Engine": "e", "MasterUserPassword": "SM-SECRET-3"},
        ),
        sent(
            session,
            "cognito-idp",
            "InitiateAuth",
            {
                "AuthFlow": "USER_PASSWORD_AUTH",
                "ClientId": "SM-SECRET-4",
                "AuthParameters": {"PASSWORD": "SM-SECRET-5"},
            },
        ),
    ]
    text = repr([match_request(r, service_models) for r in requests])
    for needle in [*SECRETS, ACCESS_KEY_ID, SESSION_TOKEN, "fake-session-token", "Signature", "hunter"]:
        assert needle not in text
