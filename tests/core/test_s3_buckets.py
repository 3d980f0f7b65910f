from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector_runtime.core.names import ssm_leaf, workload_file_stem
from collector_runtime.core.s3_buckets import bucket_arn, bucket_from_fqdn


@pytest.mark.parametrize(
    ("fqdn", "bucket"),
    [
        ("reports.s3.amazonaws.com", "reports"),
        ("reports.s3.us-west-2.amazonaws.com", "reports"),
        ("reports.s3-us-west-2.amazonaws.com", "reports"),
        ("reports.s3.dualstack.eu-central-1.amazonaws.com", "reports"),
        ("reports.s3-fips.us-east-1.amazonaws.com", "reports"),
        ("reports.s3-accelerate.amazonaws.com", "reports"),
        ("my.dotted.bucket.s3.amazonaws.com", "my.dotted.bucket"),
        ("reports.s3.cn-north-1.amazonaws.com.cn", "reports"),
        ("reports.s3.amazonaws.com:443", "reports"),
        ("s3.amazonaws.com", None),
        ("s3.us-east-1.amazonaws.com", None),
        ("127.0.0.1:5000", None),
        ("ap-123456789012.s3-accesspoint.us-east-1.amazonaws.com", None),
        ("123456789012.s3-control.us-east-1.amazonaws.com", None),
        ("bucket--use1-az4--x-s3.s3express-use1-az4.us-east-1.amazonaws.com", None),
        ("reports.s3.evil.example.com", None),
        ("", None),
        (None, None),
    ],
)
def test_bucket_from_fqdn(fqdn: str | None, bucket: str | None) -> None:
    assert bucket_from_fqdn(fqdn) == bucket


def test_bucket_arn_partition() -> None:
    assert bucket_arn("b1b", "us-east-1") == "arn:aws:s3:::b1b"
    assert bucket_arn("b1b", "cn-north-1") == "arn:aws-cn:s3:::b1b"
    assert bucket_arn("b1b", "us-gov-west-1") == "arn:aws-us-gov:s3:::b1b"


@pytest.mark.parametrize("client_id", ["my-function", "ci.build_42", "A-Z"])
def test_safe_client_ids_are_kept(client_id: str) -> None:
    assert workload_file_stem(client_id) == client_id


@pytest.mark.parametrize("client_id", ["../../etc/passwd", "a/b", "..", ".", "", "x\x00y", "hé llo", "a" * 300])
def test_unsafe_client_ids_become_safe_file_names(client_id: str) -> None:
    stem = workload_file_stem(client_id)
    assert "/" not in stem and "\x00" not in stem and stem not in ("", ".", "..")
    assert not stem.startswith(".")
    assert len(stem) <= 120


def test_a_sender_cannot_claim_the_file_of_a_hashed_client_id() -> None:
    hashed = workload_file_stem("team/app")
    assert workload_file_stem(hashed) != hashed


@given(st.text(max_size=300), st.text(max_size=300))
def test_distinct_client_ids_never_share_a_file(a: str, b: str) -> None:
    if a != b:
        assert workload_file_stem(a) != workload_file_stem(b)


@pytest.mark.parametrize("client_id", ["my-function", "ci.build_42"])
def test_safe_client_ids_are_kept_as_ssm_names(client_id: str) -> None:
    assert ssm_leaf(client_id) == client_id


@pytest.mark.parametrize("client_id", ["team/app", "a b", "", "x" * 300, "hé", "~"])
def test_unsafe_client_ids_become_valid_ssm_names(client_id: str) -> None:
    leaf = ssm_leaf(client_id)
    assert re.fullmatch(r"[A-Za-z0-9_.-]{1,130}", leaf)


def test_a_sender_cannot_claim_the_ssm_name_of_a_hashed_client_id() -> None:
    hashed = ssm_leaf("team/app")
    assert ssm_leaf(hashed) != hashed


@given(st.text(max_size=200), st.text(max_size=200))
def test_distinct_client_ids_never_share_a_parameter(a: str, b: str) -> None:
    if a != b:
        assert ssm_leaf(a) != ssm_leaf(b)
