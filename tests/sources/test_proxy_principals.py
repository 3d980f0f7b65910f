"""The caller behind a key, from the STS responses the proxy sees: the account of a GetCallerIdentity
(for key ids that encode none) and one workload per principal across credential rotation (the role of
an AssumeRole session), never keeping a key."""

from __future__ import annotations

import base64
import os
from typing import Any

import botocore.session
import pytest

from collector_runtime.core.mapping import ActionMap
from collector_runtime.sources.proxy.calls import CallRecorder
from collector_runtime.sources.proxy.responses import read_response
from collector_runtime.sources.proxy.service_models import ServiceModels
from tests.proxy_requests import capturing_client, request_of

OLD_KEY = "AKIAIOSFODNN7EXAMPLE"  # AWS's documentation key id: encodes no account
ACCOUNT = "123456789012"
XML = {"content-type": "text/xml"}


def temporary_key(account: str) -> str:
    """A fresh current-format ASIA key id of `account` (random low bits, as AWS issues them)."""
    value = (1 << 47) | (int(account) << 7)
    return "ASIA" + base64.b32encode(value.to_bytes(6, "big") + os.urandom(4)).decode()


def signed(key_id: str, service: str, operation: str, params: dict[str, Any]) -> Any:
    session = botocore.session.get_session()
    session.set_credentials(key_id, "secret-key-never-kept", "session-token-never-kept")
    with capturing_client(session, service) as client:
        return request_of(client, operation, params)


def caller_identity(arn: str) -> bytes:  # the Query protocol's response (STS API reference)
    return (
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>'
        f"<Arn>{arn}</Arn><UserId>AROAEXAMPLE:s</UserId><Account>{arn.split(':')[4]}</Account>"
        "</GetCallerIdentityResult><ResponseMetadata><RequestId>r</RequestId></ResponseMetadata>"
        "</GetCallerIdentityResponse>"
    ).encode()


def assumed_role(key_id: str, arn: str) -> bytes:
    return (
        '<AssumeRoleResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><AssumeRoleResult>'
        f"<Credentials><AccessKeyId>{key_id}</AccessKeyId><SecretAccessKey>SECRETxyz</SecretAccessKey>"
        "<SessionToken>TOKENxyz</SessionToken><Expiration>2026-12-06T22:00:00Z</Expiration></Credentials>"
        f"<AssumedRoleUser><AssumedRoleId>AROAEXAMPLE:s</AssumedRoleId><Arn>{arn}</Arn></AssumedRoleUser>"
        "</AssumeRoleResult></AssumeRoleResponse>"
    ).encode()


@pytest.fixture
def recorder(action_map: ActionMap) -> CallRecorder:
    return CallRecorder(ServiceModels(), action_map)


def test_get_caller_identity_gives_the_account_of_a_key_that_encodes_none(recorder: CallRecorder) -> None:
    identity = read_response(200, XML, caller_identity(f"arn:aws:iam::{ACCOUNT}:user/ci"))
    whoami = recorder.record(signed(OLD_KEY, "sts", "GetCallerIdentity", {}), None, identity)
    later = recorder.record(signed(OLD_KEY, "sqs", "ListQueues", {}), None, read_response(200, {}, b""))
    assert (whoami.account, later.account) == (ACCOUNT, ACCOUNT)
    assert whoami.workload == later.workload


def test_two_temporary_keys_of_one_role_are_one_workload(recorder: CallRecorder) -> None:
    role_session = f"arn:aws:sts::{ACCOUNT}:assumed-role/app-role/run-1"
    keys = [temporary_key(ACCOUNT), temporary_key(ACCOUNT)]
    base = temporary_key("210987654321")
    for key in keys:
        recorder.record(
            signed(base, "sts", "AssumeRole", {}), None, read_response(200, XML, assumed_role(key, role_session))
        )
    calls = [recorder.record(signed(k, "sqs", "ListQueues", {}), None, read_response(200, {}, b"")) for k in keys]
    assert calls[0].workload == calls[1].workload == f"{ACCOUNT}-role-app-role"
    assert not any(k in repr(recorder.__dict__) for k in keys)


def test_without_evidence_temporary_keys_are_named_by_their_account(recorder: CallRecorder) -> None:
    calls = [
        recorder.record(signed(temporary_key(ACCOUNT), "sqs", "ListQueues", {}), None, read_response(200, {}, b""))
        for _ in range(2)
    ]
    assert calls[0].workload == calls[1].workload
    assert calls[0].workload.startswith(ACCOUNT) and "ASIA" not in calls[0].workload


def test_a_response_keeps_no_key_secret_or_token() -> None:
    key = temporary_key(ACCOUNT)
    info = read_response(200, XML, assumed_role(key, f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"))
    assert info.caller is not None and info.caller.arn == f"arn:aws:sts::{ACCOUNT}:assumed-role/r/s"
    assert key not in repr(info) and "SECRETxyz" not in repr(info) and "TOKENxyz" not in repr(info)
