"""The one resource hint CSM carries: the bucket in an S3 virtual-hosted request's host name.

A host that names no bucket (a path-style request: `s3.amazonaws.com/bucket/key`, or any
`endpoint_url` such as `http://127.0.0.1:9000/bucket/key`) and no access point is scoped to the
narrowest known part, some bucket: `arn:aws:s3:::*` (objects: `arn:aws:s3:::*/*`)."""

from __future__ import annotations

import re

from .arns import partition_of

_SUFFIXES = ("amazonaws.com", "amazonaws.com.cn")
_ENDPOINT_LABEL = re.compile(r"^s3(?:-fips|-accelerate|-external-1|-[a-z]{2}(?:-gov)?-[a-z]+-\d)?$")
_TRAILING_LABEL = re.compile(r"^(?:dualstack|[a-z]{2}(?:-gov|-iso[a-z]?)?-[a-z]+-\d)$")
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def bucket_from_fqdn(fqdn: str | None) -> str | None:
    """'my-bucket.s3.us-east-1.amazonaws.com' -> 'my-bucket'; None for path-style or non-bucket hosts."""
    if not fqdn:
        return None
    host = fqdn.rsplit(":", 1)[0].lower().rstrip(".")
    suffix = next((s for s in _SUFFIXES if host.endswith("." + s)), None)
    if suffix is None:
        return None
    labels = host[: -len(suffix) - 1].split(".")
    while labels and _TRAILING_LABEL.match(labels[-1]):
        labels.pop()
    if len(labels) < 2 or not _ENDPOINT_LABEL.match(labels[-1]):
        return None
    bucket = ".".join(labels[:-1])
    return bucket if _BUCKET.match(bucket) else None


# Hosts of access points, Object Lambda, Outposts and directory buckets: not a general-purpose bucket.
_NOT_A_BUCKET_HOST = re.compile(r"(?:^|\.)(?:s3-accesspoint|s3-object-lambda|s3-outposts|s3express|accesspoint)[.-]")


def names_some_bucket(fqdn: str) -> bool:
    """Whether a host that names no bucket still addresses a general-purpose bucket (path-style)."""
    return _NOT_A_BUCKET_HOST.search(fqdn[:300].lower()) is None


def bucket_arn(bucket: str, region: str | None) -> str:
    return f"arn:{partition_of(region)}:s3:::{bucket}"
