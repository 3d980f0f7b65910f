"""The two ways a configuration can fail, with their exit statuses."""

from __future__ import annotations


class ConfigError(ValueError):
    """A setting that cannot be used (bad usage or input, exit 2); the message says which and why."""


class StartupError(RuntimeError):
    """The environment does not allow the command to start (exit 1), e.g. an unwritable output directory."""
