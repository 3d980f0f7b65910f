"""An SQS queue's name and URL, the one rule every source checks, and the queue's ARN. Pure.

A queue URL is `https://<host>/<account>/<name>`. On AWS's hosts (`sqs.<region>.amazonaws.com`,
`<region>.queue.amazonaws.com`, the legacy global `queue.amazonaws.com` of us-east-1; in every partition, by
its DNS suffix from botocore's table: `.amazonaws.com.cn`, `.c2s.ic.gov`...) it carries its region; on any
other host (an endpoint override: a VPC endpoint's name, LocalStack, moto) the queue is in the call's region.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from .arns import ACCOUNT_ID, is_region, partition_of
from .partition_table import DNS_SUFFIXES

_NAME = r"[A-Za-z0-9_-]{1,80}(?:\.fifo)?"  # a pattern's text: SQS's rule for a queue's name
_QUEUE_NAME = re.compile(rf"^{_NAME}$")
_QUEUE_URL = re.compile(rf"^https?://([A-Za-z0-9.:-]{{1,255}})/({ACCOUNT_ID})/({_NAME})/?$")
_AWS_HOST = re.compile(  # the region a host of AWS names ("" for the legacy global host)
    r"^(?:sqs\.([a-z0-9-]{1,64})\.|([a-z0-9-]{1,64})\.queue\.|(?:sqs|queue)\.)"
    rf"(?:{'|'.join(map(re.escape, DNS_SUFFIXES))})$"
)
GLOBAL_REGION = "us-east-1"  # where the legacy global host's queues are


class QueueUrl(NamedTuple):
    region: str | None  # None: another host than AWS's, the call's region
    account: str
    name: str


def is_queue_name(name: str) -> bool:
    return _QUEUE_NAME.match(name) is not None


def read_queue_url(url: str) -> QueueUrl | None:
    """`https://sqs.eu-west-1.amazonaws.com/123456789012/jobs` -> ('eu-west-1', '123456789012', 'jobs')."""
    match = _QUEUE_URL.match(url)
    if match is None:
        return None
    host, account, name = match.groups()
    aws = _AWS_HOST.match(host)
    region = (aws.group(1) or aws.group(2) or GLOBAL_REGION) if aws else None
    return QueueUrl(region if region and is_region(region) else None, account, name)


def queue_arn(url: str, partition: str | None = None, *, region: str | None = None) -> str | None:
    """`https://sqs.eu-west-1.amazonaws.com/123456789012/jobs` -> `arn:aws:sqs:eu-west-1:123456789012:jobs`;
    a queue URL of another host only with the call's `region`."""
    queue = read_queue_url(url)
    region = (queue.region or region) if queue else None
    if queue is None or not region:
        return None
    return f"arn:{partition or partition_of(region)}:sqs:{region}:{queue.account}:{queue.name}"
