"""The resources an AWS SDK span names: which attributes hold identifiers, which values are well-formed,
and the request member each one reports. Pure.

Only what is OTLP-specific lives here: the attribute names (OpenTelemetry semantic conventions `aws-sdk`,
plus the spellings the instrumentations measured here actually emit) and a check of each value. Turning
an identifier into ARNs is `core.identifier_arns`' job, shared with the proxy source: a span's identifier
is handed over as the request member it reports (`aws.dynamodb.table_names` -> `TableName`), and the
formats of the called service's IAM prefix say which ARN it names.

ARN-valued, kept as they are when they look like an ARN:
  `aws.sns.topic.arn`, `aws.secretsmanager.secret.arn`, `aws.step_functions.state_machine.arn`,
  `aws.step_functions.activity.arn`, `aws.lambda.invoked_arn`
Queue URLs (`arn:<p>:sqs:<region>:<account>:<name>`): `aws.sqs.queue.url`, `aws.queue_url` (Python),
  `messaging.url` (older), `url.full` (JavaScript; on SQS spans only)
Name-valued: `aws.s3.bucket` (Bucket), `aws.dynamodb.table_names` (array; TableName),
  `aws.kinesis.stream_name` / `aws.kinesis.stream.name` (JavaScript) (StreamName), `aws.sqs.queue.name`
  (ADOT JavaScript; QueueName), `faas.invoked_name` / `aws.lambda.function.name` (ADOT JavaScript;
  FunctionName: a name, name:qualifier or an ARN), `aws.log.group.names` (array, on the span; logGroupName)

By service (`canonical`): `server.address` is the SQS queue URL (Go's otelaws), else a host and not read;
`messaging.destination.name` is an SNS topic's ARN (Java, JavaScript) or name (Go, Python; not Python's
"unknown"/"phone_number") or an SQS queue's name (JavaScript); `aws.s3.copy_source` (`bucket/key`) names its
bucket; `aws.lambda.function.arn` (Java, experimental) is an ARN.

Values that are not well-formed identifiers of their kind are dropped, so a hostile sender cannot put
arbitrary text into a policy. `aws.s3.key` is not read: object keys can carry personal data, and S3
object actions are scoped per bucket by the core. The resource attribute `aws.log.group.names` names
the workload's own log group, not what it called, and is not read either.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping

from ...core.arns import account_of_arn, is_arn
from ...core.s3_buckets import copy_source_bucket, is_bucket_name, split_copy_source
from ...core.sqs_queues import is_queue_name, read_queue_url

ARN_KEYS = frozenset(
    {
        "aws.sns.topic.arn",
        "aws.secretsmanager.secret.arn",
        "aws.step_functions.state_machine.arn",
        "aws.step_functions.activity.arn",
        "aws.lambda.invoked_arn",
        "aws.lambda.function.arn",  # Java agent, experimental attributes
    }
)
QUEUE_URL_KEYS = frozenset({"aws.sqs.queue.url", "aws.queue_url", "messaging.url", "url.full"})
DESTINATION = "messaging.destination.name"  # SNS: topic ARN (Java, JS) or name (Go, Python); SQS: queue name
# attribute -> the request member it reports (core.identifier_arns binds members to ARN placeholders)
MEMBERS: Mapping[str, str] = {
    "aws.s3.bucket": "Bucket",
    "aws.dynamodb.table_names": "TableName",
    "aws.kinesis.stream_name": "StreamName",
    "aws.kinesis.stream.name": "StreamName",
    "aws.sqs.queue.name": "QueueName",
    "faas.invoked_name": "FunctionName",
    "aws.lambda.function.name": "FunctionName",
    "aws.log.group.names": "logGroupName",
    DESTINATION: "TopicName",
    **dict.fromkeys(QUEUE_URL_KEYS, "QueueUrl"),
    **dict.fromkeys(ARN_KEYS, "Arn"),
}
NAME_KEYS = frozenset(MEMBERS) - ARN_KEYS - QUEUE_URL_KEYS
_FUNCTION_KEYS = frozenset({"faas.invoked_name", "aws.lambda.function.name"})
# Read as another attribute, depending on the span's service (`canonical`):
SERVER_ADDRESS = "server.address"  # otelaws: the SQS QueueUrl; elsewhere a host name, never kept
COPY_SOURCE = "aws.s3.copy_source"  # `bucket/key` (URL-encoded, maybe `?versionId=`): its bucket
IDENTIFIER_KEYS = frozenset(MEMBERS) | {SERVER_ADDRESS, COPY_SOURCE}
_SNS_PLACEHOLDERS = frozenset({"unknown", "phone_number"})  # Python botocore's, when no topic is named
MAX_IDENTIFIER = 2_048

_FUNCTION = re.compile(r"^[A-Za-z0-9_-]{1,64}(?::[A-Za-z0-9$_-]{1,128})?$").match
_STREAM = re.compile(r"^[A-Za-z0-9_.-]{1,128}$").match
_NAMES: Mapping[str, Callable[[str], object]] = {  # attribute -> its check (truthy: well-formed)
    "aws.s3.bucket": is_bucket_name,
    "aws.dynamodb.table_names": re.compile(r"^[A-Za-z0-9_.-]{3,255}$").match,
    "aws.kinesis.stream_name": _STREAM,
    "aws.kinesis.stream.name": _STREAM,
    "aws.sqs.queue.name": is_queue_name,
    "faas.invoked_name": _FUNCTION,
    "aws.lambda.function.name": _FUNCTION,
    "aws.log.group.names": re.compile(r"^[A-Za-z0-9_./#-]{1,512}$").match,
    DESTINATION: re.compile(r"^[A-Za-z0-9_-]{1,256}(?:\.fifo)?$").match,
}


def canonical(key: str, value: str, service: str) -> tuple[str, str] | None:
    """The attribute (of MEMBERS) a span attribute reports on a span of `service` (lower case, no spaces),
    with its value; None for what names nothing there (a URL or host of another service, a placeholder)."""
    if key == COPY_SOURCE:
        bucket = copy_source_bucket(split_copy_source(value[:MAX_IDENTIFIER])[0])  # an access point's ARN: None
        return ("aws.s3.bucket", bucket) if bucket else None
    if key in QUEUE_URL_KEYS or key == SERVER_ADDRESS:
        return ("aws.sqs.queue.url", value) if service == "sqs" else None
    if key == DESTINATION:
        if service == "sqs":
            return ("aws.sqs.queue.name", value)
        if service != "sns" or value in _SNS_PLACEHOLDERS:
            return None
        return ("aws.sns.topic.arn", value) if value.startswith("arn:") else (DESTINATION, value)  # TopicName
    return key, value


def is_queue_url(value: str) -> bool:
    return len(value) <= MAX_IDENTIFIER and read_queue_url(value) is not None


def queue_url_account(value: str) -> str | None:
    queue = read_queue_url(value)
    return queue.account if queue else None


def is_identifier(key: str, value: str) -> bool:
    """Whether a value of an identifier attribute is well-formed enough to be kept at all."""
    if key in ARN_KEYS or (key in _FUNCTION_KEYS and value.startswith("arn:")):
        return is_arn(value)
    if key in QUEUE_URL_KEYS:
        return is_queue_url(value)
    check = _NAMES.get(key)
    return check is not None and bool(check(value))


def account_in(key: str, value: str) -> str | None:
    """The account an identifier carries: an ARN's, or a queue URL's."""
    if key in QUEUE_URL_KEYS:
        return queue_url_account(value)
    return account_of_arn(value) if value.startswith("arn:") else None
