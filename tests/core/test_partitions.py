"""The partition of a region, for every partition botocore knows, from the one table generated from its
data/partitions.json (mapping/partitions.py); the ARNs built with it (S3 buckets, queue URLs) follow."""

from __future__ import annotations

import importlib.util
import json
import re
from pathlib import Path
from typing import Any

import botocore
import pytest

from collector_runtime.core.arns import partition_of
from collector_runtime.core.identifier_arns import queue_arn
from collector_runtime.core.partition_table import DNS_SUFFIXES, DUAL_STACK_DNS_SUFFIXES, PARTITIONS
from collector_runtime.core.s3_buckets import bucket_arn, bucket_from_fqdn

BOTOCORE_PARTITIONS: list[dict[str, Any]] = json.loads(
    (Path(botocore.__file__).parent / "data" / "partitions.json").read_text()
)["partitions"]
ALL_PARTITIONS = ("aws", "aws-cn", "aws-us-gov", "aws-iso", "aws-iso-b", "aws-iso-e", "aws-iso-f", "aws-eusc")
GENERATOR = Path(__file__).resolve().parents[2] / "mapping" / "partitions.py"
REGIONS = [(region, partition["id"]) for partition in BOTOCORE_PARTITIONS for region in partition["regions"]]


def _unlisted_region(partition: dict[str, Any]) -> str:
    """A region botocore does not list yet but its partition's pattern covers: a listed one numbered 9."""
    listed = next(region for region in partition["regions"] if re.search(r"-\d+$", region))
    return re.sub(r"\d+$", "9", listed)


def test_botocore_knows_every_partition_named_here() -> None:
    assert {partition["id"] for partition in BOTOCORE_PARTITIONS} >= set(ALL_PARTITIONS)


@pytest.mark.parametrize(("region", "partition"), REGIONS)
def test_every_region_botocore_lists(region: str, partition: str) -> None:
    assert partition_of(region) == partition


@pytest.mark.parametrize("partition", BOTOCORE_PARTITIONS, ids=lambda partition: partition["id"])
def test_a_new_region_of_each_partition(partition: dict[str, Any]) -> None:
    assert partition_of(_unlisted_region(partition)) == partition["id"]


@pytest.mark.parametrize("region", [None, "", "*", "local", "us-iso", "US-EAST-1", "x" * 10_000])
def test_an_unknown_region_is_in_the_aws_partition(region: str | None) -> None:
    assert partition_of(region) == "aws"


@pytest.mark.parametrize(("region", "partition"), REGIONS)
def test_s3_bucket_and_queue_arns_carry_the_partition(region: str, partition: str) -> None:
    assert bucket_arn("reports", region) == f"arn:{partition}:s3:::reports"
    endpoint = "http://localhost:4566/123456789012/jobs"  # a queue URL that names no region: the call's
    assert queue_arn(endpoint, region=region) == f"arn:{partition}:sqs:{region}:123456789012:jobs"


def test_the_committed_table_is_what_botocore_says() -> None:
    """mapping/partitions.py regenerates core/partition_table.py; it must not differ from the installed botocore."""
    spec = importlib.util.spec_from_file_location("partitions_generator", GENERATOR)
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.table() == PARTITIONS


def test_the_committed_dns_suffixes_are_what_botocore_says() -> None:
    spec = importlib.util.spec_from_file_location("partitions_generator", GENERATOR)
    assert spec and spec.loader
    generator = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(generator)
    assert generator.dns_suffixes() == DNS_SUFFIXES and "c2s.ic.gov" in DNS_SUFFIXES
    assert generator.dual_stack_dns_suffixes() == DUAL_STACK_DNS_SUFFIXES and "api.aws" in DUAL_STACK_DNS_SUFFIXES


@pytest.mark.parametrize(
    ("host", "region"),
    [
        ("reports.s3.us-iso-east-1.c2s.ic.gov", "us-iso-east-1"),
        ("reports.s3.us-isob-east-1.sc2s.sgov.gov", "us-isob-east-1"),
        ("reports.s3.eusc-de-east-1.amazonaws.eu", "eusc-de-east-1"),
        ("reports.s3.cn-north-1.amazonaws.com.cn", "cn-north-1"),
        ("reports.s3.eu-west-1.amazonaws.com", "eu-west-1"),
    ],
)
def test_a_bucket_host_of_every_partition_names_its_bucket(host: str, region: str) -> None:
    """The bucket of a virtual-hosted request is read in every partition: else the call is scoped to every bucket."""
    assert bucket_from_fqdn(host) == "reports"
    assert bucket_arn("reports", region) == f"arn:{partition_of(region)}:s3:::reports"


@pytest.mark.parametrize(
    "url",
    [
        "https://sqs.us-iso-east-1.c2s.ic.gov/123456789012/jobs",
        "https://sqs.eusc-de-east-1.amazonaws.eu/123456789012/jobs",
        "https://sqs.cn-north-1.amazonaws.com.cn/123456789012/jobs",
    ],
)
def test_a_queue_url_of_every_partition_carries_its_region(url: str) -> None:
    region = url.split("/")[2].split(".")[1]
    assert queue_arn(url, region="us-east-1") == f"arn:{partition_of(region)}:sqs:{region}:123456789012:jobs"
