"""Resource ARNs from the identifiers a request or span names (a table name, a bucket and key, a queue URL,
a function name or ARN, ...): what the proxy and OTLP sources put in a record's `resources`. Pure.

An identifier that is an ARN is kept as it is. Otherwise its name binds a placeholder of the ARN formats
of the operation's IAM prefix: by the same name (`TableName`, `FunctionName`, `StreamName`), or through
the reviewed aliases below; every format whose names are all bound becomes an ARN, with the call's
partition, region and account. A queue URL carries its own region and account; one of another host (an
endpoint override: a VPC endpoint's name, LocalStack, moto) carries its account and name, and is in the
call's region.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from .arns import ACCOUNT, PARTITION, REGION, arn_format, partition_of

# botocore member (or span attribute kind) -> the placeholder it fills, where the names differ. Reviewed:
# each is how AWS names that identifier in the service's ARN format.
ALIASES: Mapping[str, str] = {
    "Bucket": "BucketName",  # S3: arn:...:s3:::${BucketName}
    "Key": "ObjectName",  # S3: arn:...:s3:::${BucketName}/${ObjectName}
    "Name": "ParameterNameWithoutLeadingSlash",  # SSM parameters (GetParameter, PutParameter: Name)
    "logGroupName": "LogGroupName",
    "logStreamName": "LogStreamName",
    "QueueName": "QueueName",
    "TopicName": "TopicName",
    "KeyId": "KeyId",
    "RoleName": "RoleNameWithPath",
    "repositoryName": "RepositoryName",
    "cluster": "ClusterName",
    "EventBusName": "EventBusName",
    "StateMachineName": "StateMachineName",
}
# Members that name a second placeholder too, in another service's formats (only the operation's own IAM
# prefix's formats are filled, so the other placeholder never leaks into an unrelated service).
ALSO: Mapping[str, tuple[str, ...]] = {
    # Secrets Manager CreateSecret and SNS CreateTopic name their secret and topic `Name` (SSM's Name fills
    # its parameter ARN); no other service's formats have these placeholders alone.
    "Name": ("SecretId", "TopicName"),
}
# Placeholders whose ARN carries a random suffix AWS appends (Secrets Manager: name-AbCdEf): only a pattern
# matches.
SUFFIXED: Mapping[str, str] = {"SecretId": "-??????"}
_REGION = r"[a-z]{2}(?:-[a-z]+)+-\d"
_QUEUE_URL = re.compile(  # sqs.<region>.amazonaws.com, <region>.queue.amazonaws.com, or the legacy global host
    rf"^https?://(?:sqs\.(?P<region>{_REGION})\.|(?P<legacy>{_REGION})\.queue\.|(?:sqs|queue)\.)"
    r"amazonaws\.com(?:\.cn)?/(?P<account>\d{12})/(?P<name>[^/?#]+)$"
)
_OTHER_QUEUE_URL = re.compile(  # an endpoint override: host[:port]/<account>/<name>, nothing else
    r"^https?://[A-Za-z0-9.:-]{1,255}/(?P<account>\d{12})/(?P<name>[A-Za-z0-9_-]{1,80}(?:\.fifo)?)/?$"
)


def queue_arn(url: str, partition: str | None = None, *, region: str | None = None) -> str | None:
    """`https://sqs.eu-west-1.amazonaws.com/123456789012/jobs` -> `arn:aws:sqs:eu-west-1:123456789012:jobs`;
    a queue URL of another host only with the call's `region`."""
    match = _QUEUE_URL.match(url)
    if match:
        region = match.group("region") or match.group("legacy") or "us-east-1"
    else:
        match = _OTHER_QUEUE_URL.match(url) if region else None
    if not match or not region:
        return None
    return f"arn:{partition or partition_of(region)}:sqs:{region}:{match.group('account')}:{match.group('name')}"


def resource_arns(
    formats: Mapping[str, list[str]],
    identifiers: Mapping[str, str],
    *,
    region: str | None,
    account: str | None,
) -> tuple[str, ...]:
    """The ARNs the identifiers name, given the formats of the operation's IAM prefix (ActionMap.formats_of)."""
    found: list[str] = []
    bound: dict[str, str] = {}
    for member, value in identifiers.items():
        if not value:
            continue
        if value.startswith("arn:"):
            found.append(value)
        elif member.lower().endswith("url") and (arn := queue_arn(value, region=region)):
            found.append(arn)
        elif member == "KeyId" and value.startswith("alias/"):
            bound["Alias"] = value.removeprefix("alias/")
        else:
            for placeholder in (ALIASES.get(member, member), *ALSO.get(member, ())):
                bound[placeholder] = value + SUFFIXED.get(placeholder, "")
    if bound:
        found += _filled(formats, bound, region, account)
    return tuple(dict.fromkeys(found))


def _filled(
    formats: Mapping[str, list[str]], bound: dict[str, str], region: str | None, account: str | None
) -> list[str]:
    """Every format whose named placeholders are all bound (and that needs a region or account only where
    the call has one)."""
    location = {PARTITION: partition_of(region), REGION: region or "*", ACCOUNT: account or "*"}
    filled = []
    for texts in formats.values():
        for text in texts:
            names = arn_format(text).names
            if names and all(name in bound for name in names):
                values = {name: _value(name, bound[name]) for name in names}
                filled.append(arn_format(text).fill(location[PARTITION], location[REGION], location[ACCOUNT], values))
    return filled


def _value(placeholder: str, value: str) -> str:
    return value.lstrip("/") if placeholder.endswith("WithoutLeadingSlash") else value
