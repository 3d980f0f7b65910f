"""Which extra to install when an optional dependency is missing: an `ImportError` that reaches the command
line becomes one line naming the package and the `pip install` that brings it (exit 1)."""

from __future__ import annotations

from ..errors import StartupError
from ..install_hint import install_hint

# The top-level module -> (the package that provides it, the extra of pyproject.toml that installs it).
OPTIONAL_MODULES = {
    "opentelemetry": ("opentelemetry-proto", "otlp"),
    "google": ("protobuf", "otlp"),
    "mitmproxy": ("mitmproxy", "proxy"),
    "mitmproxy_rs": ("mitmproxy", "proxy"),
    "OpenSSL": ("pyOpenSSL", "proxy"),
    "cryptography": ("cryptography", "proxy"),
    "duckdb": ("duckdb", "report"),
    "boto3": ("boto3", "aws"),
    "botocore": ("botocore", "aws"),
    "moto": ("moto", "demo"),
}


def missing_extra(error: ImportError, command: str) -> StartupError | None:
    """The missing optional dependency behind `error`, as a one-line StartupError; None when `error` is not
    about one (a bug, which keeps its traceback)."""
    module = (error.name or "").partition(".")[0]
    if module not in OPTIONAL_MODULES:
        return None
    package, extra = OPTIONAL_MODULES[module]
    return StartupError(f"{command} needs {package}, which is not installed: {install_hint(extra)}")
