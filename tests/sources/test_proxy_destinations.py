"""Where the proxy may connect (sources.proxy.destinations): address kinds, the policy, --allow-destination."""

from __future__ import annotations

from ipaddress import IPv4Address, IPv6Address, IPv6Network, ip_address

import pytest
from hypothesis import given
from hypothesis import strategies as st

from collector_runtime.sources.proxy.destinations import (
    ALLOWED,
    RESOLVE,
    AllowedDestination,
    DestinationError,
    DestinationPolicy,
    address_kind,
    allowed_destination,
)


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("127.0.0.1", "loopback"),
        ("127.255.0.9", "loopback"),
        ("0.0.0.0", "unspecified"),
        ("169.254.169.254", "metadata"),
        ("169.254.170.2", "metadata"),
        ("169.254.1.1", "link-local"),
        ("10.1.2.3", "private"),
        ("172.16.0.1", "private"),
        ("172.31.255.255", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("224.0.0.1", "multicast"),
        ("239.255.255.250", "multicast"),
        ("255.255.255.255", "reserved"),
        ("192.0.2.1", "reserved"),
        ("198.18.0.1", "reserved"),
        ("52.94.133.131", "public"),
        ("172.32.0.1", "public"),
        ("100.128.0.1", "public"),
        ("::", "unspecified"),
        ("::1", "loopback"),
        ("fd00:ec2::254", "metadata"),
        ("fe80::1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("fd12:3456::1", "private"),
        ("fec0::1", "private"),
        ("ff02::1", "multicast"),
        ("2001:db8::1", "reserved"),
        ("2001::1", "reserved"),  # Teredo
        ("::7f00:1", "reserved"),  # IPv4-compatible (deprecated)
        ("100::1", "reserved"),  # discard-only
        ("2600:1f18::1", "public"),
        ("::ffff:127.0.0.1", "loopback"),  # IPv4-mapped
        ("::ffff:169.254.169.254", "metadata"),
        ("::ffff:10.0.0.1", "private"),
        ("::ffff:52.94.133.131", "public"),
        ("2002:7f00:1::", "loopback"),  # 6to4 of 127.0.0.1
        ("2002:a9fe:a9fe::1", "metadata"),  # 6to4 of 169.254.169.254
        ("64:ff9b::a9fe:a9fe", "metadata"),  # NAT64 of 169.254.169.254
        ("64:ff9b::5.6.7.8", "public"),
    ],
)
def test_address_kinds(address: str, kind: str) -> None:
    assert address_kind(ip_address(address)) == kind


@given(st.integers(min_value=0, max_value=2**32 - 1))
def test_an_ipv4_address_inside_ipv6_is_judged_as_itself(number: int) -> None:
    v4 = IPv4Address(number)
    for v6 in (IPv6Address(f"::ffff:{v4}"), IPv6Address((0x2002 << 112) | (number << 80))):
        assert address_kind(v6) == address_kind(v4)


@given(st.integers(min_value=0, max_value=2**128 - 1))
def test_only_global_unicast_ipv6_can_be_public(number: int) -> None:
    address = IPv6Address(number)
    embeds_ipv4 = address.ipv4_mapped or address.sixtofour or address in IPv6Network("64:ff9b::/96")
    if address_kind(address) == "public" and not embeds_ipv4:
        assert address.exploded[0] in "23" and not address.exploded.startswith(("2001:0db8", "3fff:0"))


POLICY = DestinationPolicy()


@pytest.mark.parametrize(
    ("host", "port", "action"),
    [
        ("127.0.0.1", 22, "refuse"),
        ("127.0.0.1", 443, "refuse"),
        ("[::1]", 443, "refuse"),
        ("169.254.169.254", 80, "refuse"),
        ("mitm.it", 80, "refuse"),
        ("registry.terraform.io", 443, "resolve"),
        ("registry.terraform.io", 80, "refuse"),
        ("example.com", 8443, "refuse"),
        ("52.94.133.131", 443, "allow"),
        ("52.94.133.131", 22, "refuse"),
        ("sts.us-east-1.amazonaws.com", 443, "resolve"),
        ("s3.eu-west-1.amazonaws.com", 80, "resolve"),
        ("S3.EU-WEST-1.AMAZONAWS.COM.", 443, "resolve"),
        ("sts.us-east-1.amazonaws.com", 22, "refuse"),
        ("evilamazonaws.com", 80, "refuse"),
    ],
)
def test_what_is_decided_before_resolving(host: str, port: int, action: str) -> None:
    assert POLICY.check(host, port).action == action


def test_a_refusal_says_why() -> None:
    assert POLICY.check("127.0.0.1", 22).reason == "loopback address 127.0.0.1"
    assert POLICY.check("52.94.133.131", 22).reason == "port 22"
    assert POLICY.check("example.com", 8443).reason == "port 8443"
    assert POLICY.check("127.0.0.1", 443).reason == "loopback address 127.0.0.1"
    assert POLICY.check_address("x.example", 443, ip_address("169.254.169.254")) == "metadata address 169.254.169.254"


@pytest.mark.parametrize(
    ("host", "address", "allowed"),
    [
        ("registry.terraform.io", "151.101.2.132", True),
        ("rebound.example", "127.0.0.1", False),
        ("rebound.example", "10.0.0.5", False),
        ("rebound.example", "::ffff:127.0.0.1", False),
        ("rebound.example", "fd00:ec2::254", False),
        ("sts.eu-west-1.amazonaws.com", "10.0.12.7", True),  # a VPC interface endpoint
        ("sts.eu-west-1.amazonaws.com", "fd12::7", True),
        ("sts.eu-west-1.amazonaws.com", "127.0.0.1", False),
        ("sts.eu-west-1.amazonaws.com", "169.254.169.254", False),
        ("sts.eu-west-1.amazonaws.com", "169.254.9.9", False),
    ],
)
def test_resolved_addresses(host: str, address: str, allowed: bool) -> None:
    assert (POLICY.check_address(host, 443, ip_address(address)) is None) is allowed


def test_named_destinations_are_allowed_as_they_are() -> None:
    named = [allowed_destination("127.0.0.1:5000"), allowed_destination("internal.example")]
    policy = DestinationPolicy(["localhost.localstack.cloud:4566"], named)
    assert policy.check("127.0.0.1", 5000) == ALLOWED
    assert policy.check("127.0.0.1", 5001).action == "refuse"
    assert policy.check("Internal.Example.", 8080) == ALLOWED
    assert policy.check("localhost.localstack.cloud", 4566) == ALLOWED
    assert policy.check("localhost.localstack.cloud", 4567).action == "refuse"
    assert policy.check_address("internal.example", 8080, ip_address("52.94.133.131")) == "port 8080"  # by name only


def test_an_allowed_network_is_decided_by_the_address() -> None:
    policy = DestinationPolicy([], [allowed_destination("10.0.0.0/8")])
    assert policy.check("10.1.2.3", 22) == ALLOWED
    assert policy.check("db.example", 5432) == RESOLVE  # a network allows any port: decided by the address
    assert policy.check_address("db.example", 5432, ip_address("10.9.9.9")) is None
    assert policy.check_address("db.example", 5432, ip_address("52.94.133.131")) == "port 5432"
    assert policy.check_address("db.example", 5432, ip_address("127.0.0.1")) == "loopback address 127.0.0.1"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("example.internal", AllowedDestination("example.internal", None, None)),
        ("Example.Internal.:8080", AllowedDestination("example.internal", None, 8080)),
        ("127.0.0.1:22", AllowedDestination(None, ip_address("127.0.0.1"), 22)),
        ("10.0.0.0/8", AllowedDestination(None, ip_address("10.0.0.0"), None)),
        ("[fd00::1]:443", AllowedDestination(None, ip_address("fd00::1"), 443)),
        ("fd00::/8", AllowedDestination(None, ip_address("fd00::"), None)),
    ],
)
def test_allowed_destinations_are_parsed(text: str, expected: AllowedDestination) -> None:
    parsed = allowed_destination(text)
    assert (parsed.name, parsed.port) == (expected.name, expected.port)
    if expected.network is not None:
        assert parsed.network is not None and parsed.network.network_address == expected.network


@pytest.mark.parametrize("text", ["", "a b", "*.example.com", "host:0", "host:65536", "host:x", "[::1]x", "[::1", "-"])
def test_bad_allowed_destinations_are_refused(text: str) -> None:
    with pytest.raises(DestinationError):
        allowed_destination(text)
