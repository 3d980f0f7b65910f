"""AWS clients for the collector's own calls (publishing, reports), built in one place."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any


class AwsUnavailable(RuntimeError):
    """boto3 is not installed."""


def aws_clients(region: str | None, services: Sequence[str]) -> dict[str, Any]:
    """boto3 clients with bounded retries and timeouts, and CSM switched off: the collector's own
    calls are not workload traffic, even where AWS_CSM_ENABLED is set in its environment."""
    try:
        import boto3
        import botocore.session
        from botocore.config import Config
    except ImportError as error:
        raise AwsUnavailable("publishing to AWS needs boto3: pip install 'csm-collector[aws]'") from error
    core = botocore.session.Session()
    core.set_config_variable("csm_enabled", False)
    session = boto3.Session(botocore_session=core, region_name=region)
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
    return {name: session.client(name, config=config) for name in services}
