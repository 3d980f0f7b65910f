"""REST routes: templates, discriminators and specificity, on S3's model (the hardest case)."""

from __future__ import annotations

import pytest

from collector_runtime.sources.proxy.routes import Route, best_routes
from collector_runtime.sources.proxy.s3_hosts import bucket_in_host, is_express_control_host, s3_path, wildcard_family
from collector_runtime.sources.proxy.service_models import ServiceModels


@pytest.fixture(scope="module")
def s3_routes() -> tuple[Route, ...]:
    service_models = ServiceModels()
    return service_models.operations(service_models.summaries()["s3"]).routes


@pytest.mark.parametrize(
    ("method", "path", "query", "headers", "operation"),
    [
        ("GET", "/b/k", {}, {}, "GetObject"),
        ("GET", "/b/k", {"uploadId": "u"}, {}, "ListParts"),  # a required query member tells them apart
        ("GET", "/b/k", {"acl": ""}, {}, "GetObjectAcl"),  # a query literal
        ("PUT", "/b/k", {}, {}, "PutObject"),
        ("PUT", "/b/k", {}, {"x-amz-copy-source": "s/k"}, "CopyObject"),  # a required header
        ("PUT", "/b/k", {"partNumber": "1", "uploadId": "u"}, {}, "UploadPart"),
        ("PUT", "/b/k", {"partNumber": "1", "uploadId": "u"}, {"x-amz-copy-source": "s/k"}, "UploadPartCopy"),
        ("GET", "/b/k", {"x-id": "GetObject"}, {}, "GetObject"),  # the JS v3 / Go v2 hint changes nothing
        ("GET", "/b", {"list-type": "2"}, {}, "ListObjectsV2"),
        ("GET", "/b/", {}, {}, "ListObjects"),  # a trailing slash after a bucket
        ("POST", "/b/k", {"uploads": ""}, {}, "CreateMultipartUpload"),
    ],
)
def test_most_specific_route_wins(
    s3_routes: tuple[Route, ...], method: str, path: str, query: dict[str, str], headers: dict[str, str], operation: str
) -> None:
    best = best_routes(s3_routes, method, path, query, headers)
    assert [route.operation for route, _ in best] == [operation]


def test_labels_are_decoded(s3_routes: tuple[Route, ...]) -> None:
    ((_, labels),) = best_routes(s3_routes, "GET", "/b/dir/a%20b.txt", {}, {})
    assert labels == {"Bucket": "b", "Key": "dir/a b.txt"}


def test_no_route_no_match(s3_routes: tuple[Route, ...]) -> None:
    assert best_routes(s3_routes, "PATCH", "/b/k", {}, {}) == []


@pytest.mark.parametrize(
    ("host", "bucket"),
    [
        ("my-bucket.s3.eu-west-1.amazonaws.com", "my-bucket"),
        ("my.dotted.bucket.s3.amazonaws.com", "my.dotted.bucket"),
        ("b.s3.dualstack.us-east-1.amazonaws.com", "b"),
        ("b.s3-fips.us-east-1.amazonaws.com", "b"),
        ("b.s3-us-west-2.amazonaws.com", "b"),
        ("ap-123456789012.s3-accesspoint.eu-west-1.amazonaws.com", "ap-123456789012"),
        ("b--euw1-az1--x-s3.s3express-euw1-az1.eu-west-1.amazonaws.com", "b--euw1-az1--x-s3"),
        ("s3.eu-west-1.amazonaws.com", None),  # path-style
        ("123456789012.s3-control.eu-west-1.amazonaws.com", None),  # S3 Control's account label
        ("route.s3-object-lambda.eu-west-1.amazonaws.com", None),
    ],
)
def test_bucket_in_host(host: str, bucket: str | None) -> None:
    assert bucket_in_host(host) == bucket


def test_s3_path_and_express_control() -> None:
    assert s3_path("b.s3.eu-west-1.amazonaws.com", "/") == "/b"
    assert s3_path("b.s3.eu-west-1.amazonaws.com", "/k") == "/b/k"
    assert s3_path("s3.eu-west-1.amazonaws.com", "/b/k") == "/b/k"
    assert is_express_control_host("s3express-control.eu-west-1.amazonaws.com")
    assert not is_express_control_host("s3.eu-west-1.amazonaws.com")


@pytest.mark.parametrize(
    ("host", "family"),
    [
        ("terraform-20260101.s3.eu-west-1.amazonaws.com", "*.s3.eu-west-1.amazonaws.com"),
        ("my-bucket.s3.amazonaws.com", "*.s3.amazonaws.com"),
        ("my-bucket.s3-accelerate.dualstack.amazonaws.com", "*.s3-accelerate.dualstack.amazonaws.com"),
        ("my-bucket.s3.dualstack.us-east-2.amazonaws.com", "*.s3.dualstack.us-east-2.amazonaws.com"),
        ("www.example.com.s3.eu-west-1.amazonaws.com", None),  # a wildcard covers one label only
        ("s3.eu-west-1.amazonaws.com", None),  # path-style: no bucket in the host
        ("123456789012.s3-control.eu-west-1.amazonaws.com", None),
        ("dynamodb.eu-west-1.amazonaws.com", None),
    ],
)
def test_wildcard_family_covers_exactly_one_label_buckets(host: str, family: str | None) -> None:
    assert wildcard_family(host) == family


@pytest.mark.parametrize(
    ("host", "arn"),
    [
        (
            "reports-123456789012.s3-accesspoint.eu-west-1.amazonaws.com",
            "arn:aws:s3:eu-west-1:123456789012:accesspoint/reports",
        ),
        (
            "my-ap-123456789012.s3-accesspoint-fips.dualstack.us-gov-west-1.amazonaws.com",
            "arn:aws-us-gov:s3:us-gov-west-1:123456789012:accesspoint/my-ap",
        ),
        (
            "a1b-123456789012.s3-accesspoint.cn-north-1.amazonaws.com.cn",
            "arn:aws-cn:s3:cn-north-1:123456789012:accesspoint/a1b",
        ),
        ("reports-123456789012.s3.eu-west-1.amazonaws.com", None),  # a bucket of that name
        ("-x-123456789012.s3-accesspoint.eu-west-1.amazonaws.com", None),
        ("ap-12345.s3-accesspoint.eu-west-1.amazonaws.com", None),
    ],
)
def test_an_access_points_host_names_its_arn(host: str, arn: str | None) -> None:
    from collector_runtime.sources.proxy.s3_hosts import access_point_arn

    assert access_point_arn(host) == arn
