"""Which hosts the proxy intercepts: AWS API hosts, plus the user's `--intercept-host` patterns. Pure.

Patterns are globs on the host name (`*.amazonaws.com`, `localhost.localstack.cloud`), optionally with a port
(`*.internal:4566`); `*` matches within a host name, never a `:`. They become regexes anchored on `host:port`,
the form mitmproxy's `allow_hosts` option matches (the CONNECT target, the TLS SNI and the Host header), so
`evilamazonaws.com` is not `*.amazonaws.com`. Every other host is tunnelled untouched (TLS) or forwarded
as it is (plain HTTP), never recorded.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import NamedTuple

from collector_runtime.core.partition_table import DNS_SUFFIXES, DUAL_STACK_DNS_SUFFIXES

# Always intercepted: the endpoints of every partition (`*.amazonaws.com`, `*.amazonaws.com.cn`, `*.api.aws`,
# `*.c2s.ic.gov`...), from botocore's table.
AWS_HOSTS = tuple(f"*.{suffix}" for suffix in dict.fromkeys(DNS_SUFFIXES + DUAL_STACK_DNS_SUFFIXES))
_GLOB = re.compile(r"^[A-Za-z0-9*._-]+(?::[0-9*]+)?$")
_STARS = re.compile(r"\*+")
# mitmproxy searches these regexes in every client's host name: k stars cost up to n^k steps on a hostile one,
# so a glob keeps few (`*.amazonaws.com` has one) and a run of them counts as one.
MAX_GLOB_STARS = 3


class Upstream(NamedTuple):
    """Where `--upstream` sends intercepted requests (the Host header stays the client's)."""

    scheme: str  # "http" or "https"
    host: str
    port: int


class HostPatternError(ValueError):
    """A --intercept-host pattern that is not a host-name glob."""


def host_regex(glob: str) -> str:
    """A glob on a host name (and optional port) as a regex on `host:port`."""
    if not _GLOB.match(glob):
        raise HostPatternError(f"{glob!r} is not a host pattern (letters, digits, '.-_*', optional ':PORT')")
    host, _, port = _STARS.sub("*", glob).partition(":")
    if host.count("*") > MAX_GLOB_STARS:
        raise HostPatternError(f"{glob!r}: at most {MAX_GLOB_STARS} '*' in a host pattern")
    host_part = re.escape(host.lower()).replace(r"\*", r"[^:/]*")
    port_part = re.escape(port).replace(r"\*", r"\d+") if port else r"\d+"
    return rf"^{host_part}:{port_part}$"


def intercepted_regexes(extra: Iterable[str] = ()) -> list[str]:
    """The regexes of the AWS hosts and the extra patterns (mitmproxy's allow_hosts)."""
    return [host_regex(glob) for glob in (*AWS_HOSTS, *extra)]


class HostMatcher:
    """Is a host (and port) one the proxy intercepts? The same patterns as `allow_hosts`, for the requests
    that option does not cover (plain-HTTP proxy requests reach the hooks whatever their host)."""

    def __init__(self, extra: Iterable[str] = ()) -> None:
        self.regexes = intercepted_regexes(extra)
        self._compiled = [re.compile(regex, re.IGNORECASE) for regex in self.regexes]

    def intercepts(self, host: str, port: int) -> bool:
        target = f"{host.lower().rstrip('.')}:{port}"
        return any(pattern.search(target) for pattern in self._compiled)
