"""Run a command line `-m MODULE ARGS...` the way systemd runs the EC2 collector's ExecStart, with AWS
replaced by moto in this process (`mock_aws`), and report what ended up in S3 and SSM.

    python -S unit_under_moto.py SITE_PACKAGES RESULT_FILE BUCKET -m collector_runtime listen ...

Started with `-S` and the unit's PYTHONPATH, so boto3 and the collector come from the bundle; moto and
its own dependencies come from SITE_PACKAGES, appended after the bundle's directories.
"""

from __future__ import annotations

import json
import os
import runpy
import sys
from pathlib import Path
from typing import Any


def run_module(module: str, args: list[str]) -> int:
    sys.argv = [module, *args]
    try:
        runpy.run_module(module, run_name="__main__", alter_sys=True)
    except SystemExit as stop:
        return stop.code if isinstance(stop.code, int) else 1
    return 0


def published(bucket: str) -> dict[str, Any]:
    import boto3

    region = os.environ["CSM_COLLECTOR_REGION"]
    listing = boto3.client("s3", region_name=region).list_objects_v2(Bucket=bucket)
    pages = boto3.client("ssm", region_name=region).get_paginator("get_parameters_by_path")
    parameters = [p for page in pages.paginate(Path="/", Recursive=True) for p in page["Parameters"]]
    return {
        "objects": sorted(item["Key"] for item in listing.get("Contents", [])),
        "parameters": {parameter["Name"]: parameter["Value"] for parameter in parameters},
    }


def main() -> int:
    site_packages, result_file, bucket, dash_m, module, *args = sys.argv[1:]
    assert dash_m == "-m", "expected the unit's `-m MODULE` command line"
    sys.path.append(site_packages)
    import boto3
    from moto import mock_aws

    with mock_aws():
        boto3.client("s3", region_name=os.environ["CSM_COLLECTOR_REGION"]).create_bucket(Bucket=bucket)
        status = run_module(module, args)
        loaded = {"boto3": boto3.__file__, "module": sys.modules[module].__file__}
        result = {"status": status, **loaded, **published(bucket)}
    Path(result_file).write_text(json.dumps(result))
    return status


if __name__ == "__main__":
    sys.exit(main())
