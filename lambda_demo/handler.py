"""Demo workload: a few real AWS calls made with Client-Side Monitoring switched on.

The function's environment turns CSM on (AWS_CSM_ENABLED, AWS_CSM_HOST, AWS_CSM_PORT, AWS_CSM_CLIENT_ID),
so every call below sends a datagram to the collector; after one invocation the collector has learned a
policy for the workload `AWS_CSM_CLIENT_ID`: s3:PutObject, s3:GetObject and s3:ListBucket on the results
bucket, and ssm:GetParameter on the account's parameters in the region (sts:GetCallerIdentity needs no
permission).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class DemoSettings:
    bucket: str
    object_key: str
    address_parameter: str

    @property
    def prefix(self) -> str:
        """The "folder" of the demo object, e.g. `demo/`."""
        return self.object_key.rsplit("/", 1)[0] + "/" if "/" in self.object_key else ""

    @classmethod
    def from_environ(cls, environ: Mapping[str, str]) -> DemoSettings:
        return cls(
            bucket=environ["RESULTS_BUCKET"],
            object_key=environ["DEMO_OBJECT_KEY"],
            address_parameter=environ["COLLECTOR_ADDRESS_PARAMETER"],
        )


def run_demo_calls(session: Any, settings: DemoSettings, request_id: str) -> dict[str, Any]:
    """The calls the collector should see; returns what they returned, as the invocation's result."""
    identity = session.client("sts").get_caller_identity()
    s3 = session.client("s3")
    body = json.dumps({"lastRequest": request_id}).encode()
    s3.put_object(Bucket=settings.bucket, Key=settings.object_key, Body=body, ContentType="application/json")
    read_back = json.loads(s3.get_object(Bucket=settings.bucket, Key=settings.object_key)["Body"].read())
    listed = s3.list_objects_v2(Bucket=settings.bucket, Prefix=settings.prefix, MaxKeys=10)
    parameter = session.client("ssm").get_parameter(Name=settings.address_parameter)["Parameter"]
    return {
        "account": identity["Account"],
        "object": f"s3://{settings.bucket}/{settings.object_key}",
        "readBack": read_back,
        "objectsUnderPrefix": listed.get("KeyCount", 0),
        "collectorAddress": parameter["Value"],
    }


def handler(event: Mapping[str, Any], context: Any) -> dict[str, Any]:
    import boto3

    settings = DemoSettings.from_environ(os.environ)
    request_id = str(getattr(context, "aws_request_id", "local"))
    return run_demo_calls(boto3.session.Session(), settings, request_id)
