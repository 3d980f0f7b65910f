"""The one place that builds AWS clients for the collector's own calls, and the AWS error types."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

try:  # boto3 is optional: without it no AWS call is made, so there is nothing to catch
    from botocore.exceptions import BotoCoreError, ClientError

    AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
except ImportError:  # pragma: no cover - exercised where boto3 is absent
    AWS_ERRORS = ()


class AwsUnavailable(RuntimeError):
    """boto3 is not installed."""


def aws_clients(region: str | None, services: Sequence[str], *, purpose: str = "publishing to AWS") -> dict[str, Any]:
    """boto3 clients with bounded retries and timeouts, and CSM switched off: the collector's own
    calls are not workload traffic, even where AWS_CSM_ENABLED is set in its environment."""
    try:
        import boto3
        import botocore.session
        from botocore.config import Config
    except ImportError as error:
        raise AwsUnavailable(f"{purpose} needs boto3: pip install -e '.[aws]' in this repository") from error
    core = botocore.session.Session()
    core.set_config_variable("csm_enabled", False)
    session = boto3.Session(botocore_session=core, region_name=region)
    config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
    return {name: session.client(name, config=config) for name in services}
