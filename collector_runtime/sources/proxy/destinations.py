"""Where the proxy may connect: a policy over host names, ports and resolved addresses. Pure.

    policy = DestinationPolicy(intercept_hosts, [allowed_destination("127.0.0.1:4566"), ...])
    policy.check(host, port)                # ALLOWED, a refusal, or RESOLVE: then ask about each address
    policy.check_address(host, port, ip)    # None (may connect there) or why not

Allowed, in this order: destinations the user named (`--allow-destination`, the `--upstream` endpoint,
`--intercept-host` patterns) as they are, at any address; AWS API hosts on 443 or 80 at a public or private
address (VPC interface endpoints resolve to private ones); any other host on 443 at a public address only
(`terraform init`, package downloads). Never, unless named: loopback, link-local, the metadata endpoints,
private (RFC 1918, CGNAT, ULA), multicast, unspecified or reserved addresses, nor other ports. IPv4 inside
IPv6 (mapped, 6to4, NAT64) is judged by its IPv4 address. The caller connects to the address it asked about
(pinned), so a name that resolves elsewhere the next time (DNS rebinding) cannot move the connection.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from ipaddress import IPv4Address, IPv4Network, IPv6Address, IPv6Network, ip_address, ip_network
from typing import NamedTuple

from collector_runtime.sources.proxy.hosts import AWS_HOSTS, host_regex

IPAddress = IPv4Address | IPv6Address
IPNetwork = IPv4Network | IPv6Network

PUBLIC, PRIVATE, LOOPBACK, LINK_LOCAL = "public", "private", "loopback", "link-local"
METADATA, MULTICAST, UNSPECIFIED, RESERVED = "metadata", "multicast", "unspecified", "reserved"
PUBLIC_PORTS = frozenset({443})  # hosts that are not AWS's: HTTPS only
AWS_PORTS = frozenset({443, 80})
_AWS_KINDS = frozenset({PUBLIC, PRIVATE})
AWS_PORT_ANY = 0

_V4: tuple[tuple[IPv4Network, str], ...] = tuple(
    (IPv4Network(network), kind)
    for network, kind in (
        ("169.254.169.254/32", METADATA),  # EC2 instance metadata
        ("169.254.170.2/32", METADATA),  # ECS container credentials
        ("169.254.0.0/16", LINK_LOCAL),
        ("0.0.0.0/8", UNSPECIFIED),
        ("127.0.0.0/8", LOOPBACK),
        ("10.0.0.0/8", PRIVATE),
        ("172.16.0.0/12", PRIVATE),
        ("192.168.0.0/16", PRIVATE),
        ("100.64.0.0/10", PRIVATE),  # shared address space (CGNAT; VPCs may use it)
        ("224.0.0.0/4", MULTICAST),
        ("240.0.0.0/4", RESERVED),  # and the broadcast address
        ("192.0.0.0/24", RESERVED),  # IETF protocol assignments
        ("192.0.2.0/24", RESERVED),  # documentation
        ("198.51.100.0/24", RESERVED),
        ("203.0.113.0/24", RESERVED),
        ("198.18.0.0/15", RESERVED),  # benchmarking
        ("192.88.99.0/24", RESERVED),  # 6to4 relays (deprecated)
    )
)
_V6: tuple[tuple[IPv6Network, str], ...] = tuple(
    (IPv6Network(network), kind)
    for network, kind in (
        ("fd00:ec2::254/128", METADATA),  # EC2 instance metadata over IPv6
        ("::/128", UNSPECIFIED),
        ("::1/128", LOOPBACK),
        ("fe80::/10", LINK_LOCAL),
        ("fc00::/7", PRIVATE),  # unique local addresses
        ("fec0::/10", PRIVATE),  # site-local (deprecated)
        ("ff00::/8", MULTICAST),
        ("2001::/23", RESERVED),  # IETF protocol assignments (Teredo, benchmarking, ...)
        ("2001:db8::/32", RESERVED),  # documentation
        ("3fff::/20", RESERVED),
    )
)
_GLOBAL_UNICAST = IPv6Network("2000::/3")
_NAT64 = IPv6Network("64:ff9b::/96")
_LABEL = r"[a-z0-9_](?:[a-z0-9_-]{0,61}[a-z0-9_])?"
_NAME = re.compile(rf"^{_LABEL}(?:\.{_LABEL})*$")  # a host name, lower case, no trailing dot
_PORT = re.compile(r"^[0-9]{1,5}$")


def address_kind(address: IPAddress) -> str:
    """PUBLIC, or what else the address is (LOOPBACK, LINK_LOCAL, METADATA, PRIVATE, ...)."""
    if isinstance(address, IPv6Address):
        embedded = _embedded_ipv4(address)
        if embedded is not None:
            return address_kind(embedded)
        for network6, kind in _V6:
            if address in network6:
                return kind
        return PUBLIC if address in _GLOBAL_UNICAST else RESERVED
    for network4, kind in _V4:
        if address in network4:
            return kind
    return PUBLIC


def _embedded_ipv4(address: IPv6Address) -> IPv4Address | None:
    """The IPv4 address an IPv6 address carries: mapped (::ffff:a.b.c.d), 6to4 (2002::/16), NAT64."""
    if address.ipv4_mapped is not None:
        return address.ipv4_mapped
    if address.sixtofour is not None:
        return address.sixtofour
    if address in _NAT64:
        return IPv4Address(int(address) & 0xFFFFFFFF)
    return None


def parse_ip(host: str) -> IPAddress | None:
    """The address a host names literally (`127.0.0.1`, `::1`, `[::1]`), None for a name."""
    try:
        return ip_address(host.removeprefix("[").removesuffix("]"))
    except ValueError:
        return None


def normalise_host(host: str) -> str:
    return host.lower().rstrip(".")


class DestinationError(ValueError):
    """A --allow-destination that is neither a host name nor an address or network, with an optional port."""


@dataclass(frozen=True)
class AllowedDestination:
    """A destination the user allowed: a host name or a network (an address is a /32 or /128), and a port
    (None: any)."""

    name: str | None
    network: IPNetwork | None
    port: int | None

    def allows_name(self, host: str, port: int) -> bool:
        return self.name is not None and self.name == host and self.port in (None, port)

    def allows_address(self, address: IPAddress, port: int) -> bool:
        return self.network is not None and address in self.network and self.port in (None, port)


def allowed_destination(text: str) -> AllowedDestination:
    """`HOST`, `HOST:PORT`, `10.0.0.0/8`, `10.0.0.0/8:8080`, `fd00::/8`, `[fd00::1]:443`."""
    host, port = _split_port(text.strip())
    if port is not None and not (_PORT.match(port) and 0 < int(port) < 65536):
        raise DestinationError(f"{text!r}: {port!r} is not a port (1-65535)")
    number = int(port) if port is not None else None
    try:
        return AllowedDestination(None, ip_network(host, strict=False), number)
    except ValueError:
        pass
    name = normalise_host(host)
    if not (0 < len(name) <= 253 and _NAME.match(name)):
        raise DestinationError(
            f"{text!r} is not a destination (HOST, HOST:PORT, an address or network such as 10.0.0.0/8, [IPv6]:PORT)"
        )
    return AllowedDestination(name, None, number)


def _split_port(text: str) -> tuple[str, str | None]:
    if text.startswith("["):
        host, bracket, rest = text[1:].partition("]")
        if not bracket or (rest and not rest.startswith(":")):
            raise DestinationError(f"{text!r}: write an IPv6 address with a port as [ADDRESS]:PORT")
        return host, rest[1:] if rest else None
    if text.count(":") == 1:
        host, _, port = text.partition(":")
        return host, port
    return text, None  # no port, or a bare IPv6 address or network


class Verdict(NamedTuple):
    action: str  # "allow", "refuse" or "resolve" (then check_address on each address)
    reason: str = ""  # why it is refused


ALLOWED, RESOLVE = Verdict("allow"), Verdict("resolve")


class DestinationPolicy:
    def __init__(self, intercept_hosts: Iterable[str] = (), allowed: Iterable[AllowedDestination] = ()) -> None:
        self.allowed = tuple(allowed)
        self._named_hosts = [re.compile(host_regex(glob)) for glob in intercept_hosts]
        self._aws_hosts = [re.compile(host_regex(glob)) for glob in AWS_HOSTS]

    def check(self, host: str, port: int) -> Verdict:
        """What can be said before resolving `host`."""
        host = normalise_host(host)
        if any(entry.allows_name(host, port) for entry in self.allowed) or _matches(self._named_hosts, host, port):
            return ALLOWED
        address = parse_ip(host)
        if address is not None:
            reason = self.check_address(host, port, address)
            return ALLOWED if reason is None else Verdict("refuse", reason)
        if port not in self._ports(host) and not self._network_allows_port(port):
            return Verdict("refuse", f"port {port}")
        return RESOLVE

    def check_address(self, host: str, port: int, address: IPAddress) -> str | None:
        """None if the proxy may connect to `host` at `address`, else why not."""
        if any(entry.allows_address(address, port) for entry in self.allowed):
            return None
        host = normalise_host(host)
        kind = address_kind(address)
        if kind not in (_AWS_KINDS if self.is_aws(host) else {PUBLIC}):
            return f"{kind} address {address}"
        return None if port in self._ports(host) else f"port {port}"

    def is_aws(self, host: str) -> bool:
        """An AWS API host name (the AWS patterns have no port: any port matches)."""
        return _matches(self._aws_hosts, normalise_host(host), AWS_PORT_ANY)

    def _ports(self, host: str) -> frozenset[int]:
        return AWS_PORTS if self.is_aws(host) else PUBLIC_PORTS

    def _network_allows_port(self, port: int) -> bool:
        return any(entry.network is not None and entry.port in (None, port) for entry in self.allowed)


def _matches(patterns: list[re.Pattern[str]], host: str, port: int) -> bool:
    target = f"{host}:{port}"
    return any(pattern.search(target) for pattern in patterns)
