"""The one resource hint CSM carries: the bucket in an S3 virtual-hosted request's host name.

A host that names no bucket (a path-style request: `s3.amazonaws.com/bucket/key`, or any
`endpoint_url` such as `http://127.0.0.1:9000/bucket/key`) and no access point is scoped to the
narrowest known part, some bucket: `arn:aws:s3:::*` (objects: `arn:aws:s3:::*/*`).

Also the one copy of S3's bucket-name rule and of the reading of `x-amz-copy-source`, which every source uses."""

from __future__ import annotations

import re
from urllib.parse import parse_qsl, unquote

from .arns import is_region, partition_of
from .partition_table import DNS_SUFFIXES

_ENDPOINT_LABELS = frozenset({"s3", "s3-fips", "s3-accelerate", "s3-external-1"})  # and s3-<region>
_BUCKET = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")


def is_bucket_name(name: str) -> bool:
    """Whether `name` is a general-purpose bucket's name (S3's rule: 3-63 of a-z, 0-9, `.`, `-`)."""
    return _BUCKET.match(name) is not None


def bucket_from_fqdn(fqdn: str | None) -> str | None:
    """'my-bucket.s3.us-east-1.amazonaws.com' -> 'my-bucket'; None for path-style or non-bucket hosts."""
    if not fqdn:
        return None
    host = fqdn.rsplit(":", 1)[0].lower().rstrip(".")
    suffix = next((s for s in DNS_SUFFIXES if host.endswith("." + s)), None)
    if suffix is None:
        return None
    labels = host[: -len(suffix) - 1].split(".")
    while labels and (labels[-1] == "dualstack" or is_region(labels[-1])):
        labels.pop()
    if len(labels) < 2 or not _is_endpoint_label(labels[-1]):
        return None
    bucket = ".".join(labels[:-1])
    return bucket if is_bucket_name(bucket) else None


def _is_endpoint_label(label: str) -> bool:
    return label in _ENDPOINT_LABELS or (label.startswith("s3-") and is_region(label[3:]))


# Hosts of access points, Object Lambda, Outposts and directory buckets: not a general-purpose bucket.
_NOT_A_BUCKET_HOST = re.compile(r"(?:^|\.)(?:s3-accesspoint|s3-object-lambda|s3-outposts|s3express|accesspoint)[.-]")


def names_some_bucket(fqdn: str) -> bool:
    """Whether a host that names no bucket still addresses a general-purpose bucket (path-style)."""
    return _NOT_A_BUCKET_HOST.search(fqdn[:300].lower()) is None


def bucket_arn(bucket: str, region: str | None) -> str:
    return f"arn:{partition_of(region)}:s3:::{bucket}"


def split_copy_source(value: str) -> tuple[str, bool]:
    """S3's `x-amz-copy-source`: its path, URL-decoded (`bucket/key`, or an access point's object ARN), and
    whether it names a version (`?versionId=`, split off before decoding, as S3 reads it)."""
    path, _, query = value.partition("?")
    versioned = any(name == "versionId" and version for name, version in parse_qsl(query, keep_blank_values=True))
    return unquote(path).lstrip("/"), versioned


def copy_source_bucket(path: str) -> str | None:
    """The bucket of a decoded copy source's path `bucket/key`; None for an ARN or a path without a key."""
    bucket, _, key = path.partition("/")
    return bucket if key and is_bucket_name(bucket) else None
