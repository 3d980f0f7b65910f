"""A realistic CSM datagram stream for the benchmark: ~60 services, a few hundred operations,
hundreds of ClientIds, ApiCallAttempt + ApiCall pairs with real field sizes (user agents, request
ids, access key ids and full-size STS session tokens, which the collector must drop)."""

from __future__ import annotations

import base64
import json
import random
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MAPPING = ROOT / "collector_runtime" / "data" / "iam_mapping.json"
SERVICES = [
    "S3",
    "DynamoDB",
    "SQS",
    "SNS",
    "Lambda",
    "STS",
    "SSM",
    "Secrets Manager",
    "KMS",
    "CloudWatch",
    "CloudWatch Logs",
    "EC2",
    "ECS",
    "ECR",
    "EKS",
    "IAM",
    "Kinesis",
    "Firehose",
    "EventBridge",
    "SFN",
    "API Gateway",
    "ApiGatewayV2",
    "CloudFormation",
    "Route 53",
    "ACM",
    "Athena",
    "Glue",
    "RDS",
    "RDS Data",
    "ElastiCache",
    "Elastic Load Balancing v2",
    "Auto Scaling",
    "CloudFront",
    "Cognito Identity Provider",
    "SES",
    "SESv2",
    "AppConfigData",
    "AppSync",
    "Batch",
    "CodeBuild",
    "CodePipeline",
    "CodeCommit",
    "XRay",
    "Organizations",
    "Resource Groups Tagging API",
    "Config Service",
    "CloudTrail",
    "GuardDuty",
    "SecurityHub",
    "WAFV2",
    "Bedrock Runtime",
    "SageMaker Runtime",
    "Textract",
    "Comprehend",
    "Rekognition",
    "Translate",
    "Polly",
    "Timestream Write",
    "OpenSearch",
    "EFS",
]
USER_AGENT = (
    "Boto3/1.44.5 md/Botocore#1.44.5 ua/2.1 os/linux#6.1.0-1.amzn2023.aarch64 md/arch#aarch64 lang/python#3.12.7 "
    "md/pyimpl#CPython exec-env/AWS_Lambda_python3.12 m/b,E,Z,g cfg/retry-mode#standard Botocore/1.44.5"
)


def _token(rng: random.Random, length: int) -> str:
    return base64.b64encode(rng.randbytes(length)).decode()[:length]


def _access_key(client_id: str) -> str:
    return "ASIA" + base64.b32encode(client_id.encode().ljust(10, b"_")[:10]).decode()


def operations(rng: random.Random, per_service: int = 7) -> list[tuple[str, str]]:
    services = json.loads(MAPPING.read_text())["services"]
    chosen = []
    for service in SERVICES:
        names = sorted(services[service]["operations"])
        chosen += [(service, name) for name in rng.sample(names, min(per_service, len(names)))]
    return chosen


def call_pair(rng: random.Random, service: str, api: str, client_id: str, now_ms: int) -> list[bytes]:
    """The datagrams one SDK call produces: its attempt(s), then the call."""
    attempts = 2 if rng.random() < 0.03 else 1
    failed = rng.random() < 0.05
    status = 403 if failed else 200
    fqdn = (
        f"bench-bucket-{rng.randrange(20)}.s3.us-east-1.amazonaws.com"
        if service == "S3"
        else (f"{service.lower().replace(' ', '')}.us-east-1.amazonaws.com")
    )
    base = {
        "Version": 1,
        "ClientId": client_id,
        "Service": service,
        "Api": api,
        "Region": "us-east-1",
        "UserAgent": USER_AGENT,
    }
    out = []
    for _ in range(attempts):
        out.append(
            {
                **base,
                "Type": "ApiCallAttempt",
                "Timestamp": now_ms,
                "AttemptLatency": rng.randrange(3, 200),
                "Fqdn": fqdn,
                "AccessKey": _access_key(client_id),  # one role session per workload, as in a real fleet
                "SessionToken": "IQoJb3JpZ2luX2VjE" + _token(rng, 780),
                "HttpStatusCode": status,
                "XAmznRequestId": _token(rng, 52),
            }
        )
    final = {
        **base,
        "Type": "ApiCall",
        "Timestamp": now_ms,
        "AttemptCount": attempts,
        "FinalHttpStatusCode": status,
        "Latency": rng.randrange(3, 250),
        "MaxRetriesExceeded": 0,
    }
    if failed:
        final["FinalAwsException"] = "AccessDeniedException"
        final["FinalAwsExceptionMessage"] = (
            "User: arn:aws:sts::123456789012:assumed-role/r/s is not authorized to perform this"
        )
    out.append(final)
    return [json.dumps(d, separators=(",", ":")).encode() for d in out]


def datagram_pool(size: int, *, clients: int = 400, seed: int = 7) -> list[bytes]:
    """`size` datagrams (about half ApiCall, half ApiCallAttempt), sent in a cycle by the benchmark.

    Like a real fleet: each workload calls its own handful of operations (5 to 40), and a few busy
    workloads send most of the traffic (Zipf-like weights)."""
    rng = random.Random(seed)
    ops = operations(rng)
    client_ids = [f"svc-{i:03d}-{rng.choice(['lambda', 'ecs', 'ci', 'batch'])}" for i in range(clients)]
    working_sets = {c: rng.sample(ops, rng.randint(5, 40)) for c in client_ids}
    weights = [1 / (rank + 1) ** 0.8 for rank in range(clients)]
    pool: list[bytes] = []
    while len(pool) < size:
        client = rng.choices(client_ids, weights)[0]
        service, api = rng.choice(working_sets[client])
        pool += call_pair(rng, service, api, client, 1795303566718 + len(pool))
    return pool[:size]


def marker(client_id: str, service: str, api: str) -> bytes:
    return json.dumps(
        {
            "Version": 1,
            "ClientId": client_id,
            "Type": "ApiCall",
            "Service": service,
            "Api": api,
            "Timestamp": 1795303566718,
            "AttemptCount": 1,
            "FinalHttpStatusCode": 200,
            "Latency": 5,
        }
    ).encode()


def cycle(pool: list[bytes]) -> Iterator[bytes]:
    while True:
        yield from pool
