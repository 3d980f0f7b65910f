"""The one place that builds AWS clients for the collector's own calls, and the AWS error types.

`calling(what)` turns an AWS error into one of the command errors (`errors.py`): a "not found" names
`what`, a credentials problem says how to provide credentials, anything else is a one-line failure.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from .errors import ConfigError, CredentialsError, Failure, NotFound, one_line
from .install_hint import install_hint

try:  # boto3 is optional: without it no AWS call is made, so there is nothing to catch
    from botocore.exceptions import BotoCoreError, ClientError

    AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
except ImportError:  # pragma: no cover - exercised where boto3 is absent
    AWS_ERRORS = ()

NOT_FOUND_CODES = frozenset(
    {"NoSuchEntity", "NoSuchKey", "NoSuchBucket", "ResourceNotFoundException", "ParameterNotFound", "NotFound", "404"}
)
CREDENTIAL_CODES = frozenset(
    {
        "ExpiredToken",
        "ExpiredTokenException",
        "InvalidClientTokenId",
        "InvalidAccessKeyId",
        "UnrecognizedClientException",
        "SignatureDoesNotMatch",
        "InvalidSignatureException",
        "AuthFailure",
        "RequestExpired",
        "TokenRefreshRequired",
    }
)
# botocore's own exceptions that mean "no usable credentials", by class name (no import needed)
CREDENTIAL_EXCEPTIONS = frozenset(
    {
        "NoCredentialsError",
        "PartialCredentialsError",
        "CredentialRetrievalError",
        "TokenRetrievalError",
        "SSOTokenLoadError",
        "UnauthorizedSSOTokenError",
        "NoAuthTokenError",
        "ProfileNotFound",
    }
)
HOW_TO_AUTHENTICATE = (
    "provide credentials: AWS_PROFILE (after `aws configure` or `aws sso login`), AWS_ACCESS_KEY_ID and "
    "AWS_SECRET_ACCESS_KEY (and AWS_SESSION_TOKEN), or an instance or task role"
)


class AwsUnavailable(Failure):
    """boto3 is not installed."""


def aws_clients(region: str | None, services: Sequence[str], *, purpose: str = "publishing to AWS") -> dict[str, Any]:
    """boto3 clients with bounded retries and timeouts, and CSM switched off: the collector's own
    calls are not workload traffic, even where AWS_CSM_ENABLED is set in its environment."""
    try:
        import boto3
        import botocore.session
        from botocore.config import Config
    except ImportError as error:
        raise AwsUnavailable(f"{purpose} needs boto3: {install_hint('aws')}") from error
    core = botocore.session.Session()
    core.set_config_variable("csm_enabled", False)
    with calling("AWS configuration"):
        session = boto3.Session(botocore_session=core, region_name=region)
        config = Config(retries={"mode": "standard", "max_attempts": 3}, connect_timeout=5, read_timeout=30)
        return {name: session.client(name, config=config) for name in services}


def error_code(error: BaseException) -> str:
    """The service's error code of a ClientError ("" for other errors)."""
    response = getattr(error, "response", None)
    return str(response.get("Error", {}).get("Code", "")) if isinstance(response, dict) else ""


def aws_error(error: BaseException, what: str) -> ConfigError | Failure:
    """`error` (from an AWS call about `what`) as a command error with a one-line message."""
    code, message = error_code(error), one_line(error)
    if type(error).__name__ in CREDENTIAL_EXCEPTIONS or code in CREDENTIAL_CODES:
        return CredentialsError(f"{what}: no usable AWS credentials ({message}); {HOW_TO_AUTHENTICATE}")
    if type(error).__name__ == "NoRegionError":
        return ConfigError(f"{what}: no AWS region: pass --region or set AWS_DEFAULT_REGION (boto3 ignores AWS_REGION)")
    if code in NOT_FOUND_CODES or (code == "InvalidRequestException" and _says_not_found(message)):
        return NotFound(f"{what} not found ({message})")
    return Failure(f"{what}: {message}")


@contextmanager
def calling(what: str) -> Iterator[None]:
    """AWS errors raised inside become command errors about `what` (e.g. "IAM role 'app'")."""
    try:
        yield
    except AWS_ERRORS as error:
        raise aws_error(error, what) from error


def _says_not_found(message: str) -> bool:
    """Athena reports a missing workgroup as InvalidRequestException ("WorkGroup x is not found")."""
    lowered = message.lower()
    return "not found" in lowered or "does not exist" in lowered
