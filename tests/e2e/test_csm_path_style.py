"""Path-style S3 through CSM: a real boto3 client with CSM on calls S3 at a local endpoint_url
(`http://127.0.0.1:PORT/bucket/key`); CSM's attempts carry only the host, so the bucket is unknown.
The policy scopes object actions to every bucket's objects, never to access points no call used, and
stats.json counts the calls as unscoped."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from collector_runtime.commands.demo import csm_session
from collector_runtime.core.accounts import example_access_key
from tests.helpers import read_json, running_collector, wait_for
from tests.proxy_harness import moto_server

ACCOUNT = "123456789012"


def resources_by_action(policy: dict[str, Any]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for statement in policy["Statement"]:
        resources = statement["Resource"]
        for action in statement["Action"]:
            found.setdefault(action, set()).update([resources] if isinstance(resources, str) else resources)
    return found


@pytest.mark.timeout(120)
def test_path_style_s3_grants_every_buckets_objects_and_no_access_point(tmp_path: Path) -> None:
    with moto_server(ACCOUNT) as moto_port, running_collector(tmp_path, flush_interval=3600) as service:
        session = csm_session(service.sources["csm"].address[1], "pathstyle", access_key_id=example_access_key(ACCOUNT))
        s3 = session.client("s3", endpoint_url=f"http://127.0.0.1:{moto_port}")
        s3.create_bucket(Bucket="path-data")
        s3.put_object(Bucket="path-data", Key="in/a.txt", Body=b"a")
        assert s3.get_object(Bucket="path-data", Key="in/a.txt")["Body"].read() == b"a"
        s3.list_objects_v2(Bucket="path-data")
        assert wait_for(lambda: service.sources["csm"].decoder.counters.api_call_events >= 4)

    granted = resources_by_action(read_json(tmp_path / "policies" / "pathstyle.json"))
    assert granted["s3:GetObject"] == {"arn:aws:s3:::*/*"}
    assert granted["s3:PutObject"] == {"arn:aws:s3:::*/*"}
    assert granted["s3:ListBucket"] == {"arn:aws:s3:::*"}
    assert not any("accesspoint" in arn for arns in granted.values() for arn in arns)
    assert read_json(tmp_path / "stats.json")["csm"]["s3_calls_without_bucket"] == 4
