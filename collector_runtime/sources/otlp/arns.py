"""The resources an AWS SDK span names, as ARNs: small explicit rules per semantic-convention attribute.

Pure. Span attributes read (OpenTelemetry semantic conventions `aws-sdk`, plus the spellings that
instrumentations measured here actually emit):

ARN-valued, kept as they are when they look like an ARN:
  `aws.sns.topic.arn`, `aws.secretsmanager.secret.arn`, `aws.step_functions.state_machine.arn`,
  `aws.step_functions.activity.arn`, `aws.lambda.invoked_arn`
Name-valued, turned into ARNs:
  `aws.s3.bucket`                        -> arn:<p>:s3:::<bucket>
  `aws.dynamodb.table_names` (array)     -> arn:<p>:dynamodb:<region>:<account>:table/<name>
  `aws.sqs.queue.url`, `aws.queue_url` (Python), `messaging.url` (older), `url.full` (JavaScript,
  SQS spans only): https://sqs.<region>.amazonaws.com/<account>/<name> -> arn:<p>:sqs:<region>:<account>:<name>
  `aws.sqs.queue.name` (ADOT JavaScript)  -> arn:<p>:sqs:<region>:<account>:<name>
  `aws.kinesis.stream_name`, `aws.kinesis.stream.name` (JavaScript) -> arn:<p>:kinesis:<region>:<account>:stream/<name>
  `faas.invoked_name`, `aws.lambda.function.name` (ADOT JavaScript; a name, name:qualifier or an ARN)
                                         -> arn:<p>:lambda:<region>:<account>:function:<name>
  `aws.log.group.names` (array, on the span) -> arn:<p>:logs:<region>:<account>:log-group:<name>

A name needs the call's region (except a bucket); an unknown account becomes `*`. Values that are not
well-formed identifiers of their kind are dropped, so a hostile sender cannot put arbitrary text into
a policy. `aws.s3.key` is not read: object keys can carry personal data, and S3 object actions are
scoped per bucket by the core. The resource attribute `aws.log.group.names` names the workload's own
log group, not what it called, and is not read either.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable

ARN_KEYS = frozenset(
    {
        "aws.sns.topic.arn",
        "aws.secretsmanager.secret.arn",
        "aws.step_functions.state_machine.arn",
        "aws.step_functions.activity.arn",
        "aws.lambda.invoked_arn",
    }
)
QUEUE_URL_KEYS = frozenset({"aws.sqs.queue.url", "aws.queue_url", "messaging.url", "url.full"})
NAME_KEYS = frozenset(
    {
        "aws.s3.bucket",
        "aws.dynamodb.table_names",
        "aws.kinesis.stream_name",
        "aws.kinesis.stream.name",
        "aws.sqs.queue.name",
        "faas.invoked_name",
        "aws.lambda.function.name",
        "aws.log.group.names",
    }
)
_FUNCTION_KEYS = frozenset({"faas.invoked_name", "aws.lambda.function.name"})
IDENTIFIER_KEYS = ARN_KEYS | QUEUE_URL_KEYS | NAME_KEYS
MAX_IDENTIFIER = 2_048

_ARN = re.compile(r"^arn:(aws[a-z-]*):([a-z0-9-]{1,64}):([a-z0-9-]*):(\d{12})?:[^\s]{1,1500}$")
_QUEUE_URL = re.compile(r"^https?://([A-Za-z0-9.:-]{1,255})/(\d{12})/([A-Za-z0-9_-]{1,80}(?:\.fifo)?)/?$")
_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$")
_REGION_IN_HOST = re.compile(r"(?:^|\.)([a-z]{2}(?:-[a-z]+)+-\d{1,2})\.")
_NAMES: dict[str, re.Pattern[str]] = {
    "aws.s3.bucket": re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$"),
    "aws.dynamodb.table_names": re.compile(r"^[A-Za-z0-9_.-]{3,255}$"),
    "aws.kinesis.stream_name": re.compile(r"^[A-Za-z0-9_.-]{1,128}$"),
    "aws.kinesis.stream.name": re.compile(r"^[A-Za-z0-9_.-]{1,128}$"),
    "aws.sqs.queue.name": re.compile(r"^[A-Za-z0-9_-]{1,80}(?:\.fifo)?$"),
    "faas.invoked_name": _FUNCTION,
    "aws.lambda.function.name": _FUNCTION,
    "aws.log.group.names": re.compile(r"^[A-Za-z0-9_./#-]{1,512}$"),
}
_PARTITIONS = (
    ("cn-", "aws-cn"),
    ("us-gov-", "aws-us-gov"),
    ("us-isob-", "aws-iso-b"),
    ("us-isof-", "aws-iso-f"),
    ("us-iso-", "aws-iso"),
    ("eu-isoe-", "aws-iso-e"),
    ("eusc-", "aws-eusc"),
)


@functools.lru_cache(maxsize=256)
def partition_of(region: str | None) -> str:
    for prefix, partition in _PARTITIONS:
        if region and region.startswith(prefix):
            return partition
    return "aws"


def is_arn(value: str) -> bool:
    return len(value) <= MAX_IDENTIFIER and _ARN.match(value) is not None


def account_of_arn(value: str) -> str | None:
    match = _ARN.match(value)
    return match.group(4) if match else None


def is_queue_url(value: str) -> bool:
    return len(value) <= MAX_IDENTIFIER and _QUEUE_URL.match(value) is not None


def queue_url_account(value: str) -> str | None:
    match = _QUEUE_URL.match(value)
    return match.group(2) if match else None


def is_identifier(key: str, value: str) -> bool:
    """Whether a value of an identifier attribute is well-formed enough to be kept at all."""
    if key in ARN_KEYS or (key in _FUNCTION_KEYS and value.startswith("arn:")):
        return is_arn(value)
    if key in QUEUE_URL_KEYS:
        return is_queue_url(value)
    pattern = _NAMES.get(key)
    return pattern is not None and pattern.match(value) is not None


def resource_arns(
    identifiers: Iterable[tuple[str, str]], *, region: str | None, account: str | None
) -> tuple[str, ...]:
    """The ARNs the identifiers name, de-duplicated in first-seen order."""
    arns: dict[str, None] = {}
    for key, value in identifiers:
        arn = _to_arn(key, value, region, account or "*")
        if arn is not None:
            arns.setdefault(arn, None)
    return tuple(arns)


def _to_arn(key: str, value: str, region: str | None, account: str) -> str | None:
    if key in ARN_KEYS or (key in _FUNCTION_KEYS and value.startswith("arn:")):
        return value if is_arn(value) else None
    if key in QUEUE_URL_KEYS:
        return _queue_arn(value, region)
    if key == "aws.s3.bucket":
        return f"arn:{partition_of(region)}:s3:::{value}"
    build = _REGIONAL.get(key)
    if build is None or not region:
        return None
    return f"arn:{partition_of(region)}:{build(value, region, account)}"


def _queue_arn(url: str, call_region: str | None) -> str | None:
    match = _QUEUE_URL.match(url)
    if match is None:
        return None
    host, account, name = match.groups()
    in_host = _REGION_IN_HOST.search(host)
    region = in_host.group(1) if in_host else call_region
    if not region:
        return None
    return f"arn:{partition_of(region)}:sqs:{region}:{account}:{name}"


_REGIONAL: dict[str, Callable[[str, str, str], str]] = {
    "aws.dynamodb.table_names": lambda name, region, account: f"dynamodb:{region}:{account}:table/{name}",
    "aws.kinesis.stream_name": lambda name, region, account: f"kinesis:{region}:{account}:stream/{name}",
    "aws.kinesis.stream.name": lambda name, region, account: f"kinesis:{region}:{account}:stream/{name}",
    "aws.sqs.queue.name": lambda name, region, account: f"sqs:{region}:{account}:{name}",
    "faas.invoked_name": lambda name, region, account: f"lambda:{region}:{account}:function:{name}",
    "aws.lambda.function.name": lambda name, region, account: f"lambda:{region}:{account}:function:{name}",
    "aws.log.group.names": lambda name, region, account: f"logs:{region}:{account}:log-group:{name}",
}
