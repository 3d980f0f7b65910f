"""The two ways a configuration can fail, with their exit statuses (defined with the other kinds in `errors`)."""

from __future__ import annotations

from ..errors import ConfigError, StartupError

__all__ = ["ConfigError", "StartupError"]
