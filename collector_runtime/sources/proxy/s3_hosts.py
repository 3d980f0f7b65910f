"""S3 virtual-hosted-style addressing: the bucket in the host name, put back into the path. Pure.

`my-bucket.s3.eu-west-1.amazonaws.com/a/b.txt` is the same request as `s3.eu-west-1.amazonaws.com/my-bucket/a/b.txt`,
whose path S3's request-URI templates (`/{Bucket}/{Key+}`) describe. Also dual-stack, FIPS, legacy
`s3-<region>`, access-point (`<name>-<account>.s3-accesspoint.`) and S3 Express (`--x-s3.s3express-...`) hosts.
"""

from __future__ import annotations

import re

from collector_runtime.core.arns import partition_of

# The shortest leading part of the host followed by an S3 endpoint label ("s3", "s3-...", "s3express-...");
# not S3 Control (`<account>.s3-control.`) nor Object Lambda (`<route>.s3-object-lambda.`), whose first label
# is not a bucket.
_VIRTUAL_HOSTED = re.compile(
    r"^(?P<bucket>.+?)\.(?!s3-control\.|s3-object-lambda\.)(?:s3|s3-[a-z0-9-]+|s3express-[a-z0-9-]+)\."
)


# An access point's host: `<name>-<account>.s3-accesspoint[-fips].[dualstack.]<region>.<partition's domain>`
# (names: 3-50 lower-case letters, digits and dashes).
_ACCESS_POINT = re.compile(
    r"^(?P<name>[a-z0-9][a-z0-9-]{1,48}[a-z0-9])-(?P<account>[0-9]{12})\.s3-accesspoint(?:-fips)?\."
    r"(?:dualstack\.)?(?P<region>[a-z0-9-]{1,64})\."
)


def access_point_arn(host: str) -> str | None:
    """The ARN of the access point a request's host addresses (botocore sends `Bucket=<access point ARN>`
    there), else None."""
    found = _ACCESS_POINT.match(host)
    if found is None:
        return None
    name, account, region = found.group("name", "account", "region")
    return f"arn:{partition_of(region)}:s3:{region}:{account}:accesspoint/{name}"


def through_access_point(identifiers: dict[str, str], access_point: str) -> dict[str, str]:
    """A request's identifiers with its `Bucket` (the host's first label) as the access point's ARN and its
    `Key` as the access point's object (`.../accesspoint/<name>/object/<key>`), what IAM authorizes."""
    routed = {**identifiers, "Bucket": access_point}
    if "Key" in identifiers:
        routed["Key"] = f"{access_point}/object/{identifiers['Key']}"
    return routed


def bucket_in_host(host: str) -> str | None:
    """The bucket of a virtual-hosted-style S3 host name, else None (path-style or not S3)."""
    found = _VIRTUAL_HOSTED.match(host)
    return found.group("bucket") if found else None


def s3_path(host: str, path: str) -> str:
    """The path-style path of an S3 request: "/<bucket><path>" for a virtual-hosted one."""
    bucket = bucket_in_host(host)
    if bucket is None:
        return path
    return f"/{bucket}" if path in ("", "/") else f"/{bucket}{path}"


def is_express_control_host(host: str) -> bool:
    """The S3 Express One Zone control endpoint (directory buckets' CreateBucket, ListDirectoryBuckets, ...)."""
    return host.startswith("s3express-control.")


def wildcard_family(host: str) -> str | None:
    """`*.<endpoint>` for a virtual-hosted S3 host whose bucket is one label (a wildcard covers one label only:
    `terraform-1.s3.eu-west-1.amazonaws.com` -> `*.s3.eu-west-1.amazonaws.com`), else None."""
    bucket = bucket_in_host(host)
    if bucket is None or "." in bucket:
        return None
    return "*" + host[len(bucket) :]
