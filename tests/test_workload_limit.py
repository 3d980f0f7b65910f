"""Every source holds a workload name to the one limit (core.names.MAX_WORKLOAD, a CSM ClientId's 255
characters): CSM events, the proxy user and the principal's name, an OTLP resource, the --workload flag."""

from __future__ import annotations

import argparse

import pytest

from collector_runtime.core.names import MAX_WORKLOAD
from collector_runtime.core.records import DEFAULT_WORKLOAD
from collector_runtime.settings.values import workload_name
from collector_runtime.sources.csm.events import invalid_reason
from collector_runtime.sources.csm.fields import decode_event
from collector_runtime.sources.otlp.calls import workload_of as otlp_workload_of
from collector_runtime.sources.otlp.spans import ResourceInfo
from collector_runtime.sources.proxy.calls import workload_of as proxy_workload_of
from collector_runtime.sources.proxy.principals import principal_name
from collector_runtime.sources.proxy.request import http_request

LONGEST, TOO_LONG = "w" * MAX_WORKLOAD, "w" * (MAX_WORKLOAD + 1)


def test_the_limit_is_a_csm_client_id() -> None:
    assert MAX_WORKLOAD == 255


def test_csm_event() -> None:
    event = b'{"Type": "ApiCall", "Service": "S3", "Api": "ListBuckets", "ClientId": "%s"}'
    assert invalid_reason(decode_event(event % LONGEST.encode())) is None
    assert invalid_reason(decode_event(event % TOO_LONG.encode())) == "invalid_fields"


def test_proxy_user_and_principal() -> None:
    request = http_request("GET", "s3.amazonaws.com", "/", "", headers={})
    assert proxy_workload_of(LONGEST, request) == LONGEST
    assert proxy_workload_of(TOO_LONG, request) == DEFAULT_WORKLOAD
    name = principal_name(f"arn:aws:iam::123456789012:user/{TOO_LONG}")
    assert name is not None and len(name) == MAX_WORKLOAD


def test_otlp_resource() -> None:
    assert otlp_workload_of(ResourceInfo(service_name=LONGEST)) == LONGEST
    assert otlp_workload_of(ResourceInfo(service_name=TOO_LONG)) == DEFAULT_WORKLOAD


def test_workload_flag() -> None:
    assert workload_name(LONGEST) == LONGEST
    with pytest.raises(argparse.ArgumentTypeError, match=f"1-{MAX_WORKLOAD} printable"):
        workload_name(TOO_LONG)
