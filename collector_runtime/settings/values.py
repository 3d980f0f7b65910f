"""Checks and conversions of single setting values (argparse types, prefixes, networks): pure, no I/O."""

from __future__ import annotations

import argparse
import datetime as dt
import ipaddress
import math
import re
from collections.abc import Mapping
from pathlib import Path
from urllib.parse import urlsplit

from ..core.names import MAX_WORKLOAD
from ..sources.proxy.destinations import DestinationError, allowed_destination
from ..sources.proxy.hosts import HostPatternError, Upstream, host_regex
from .errors import ConfigError

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

MAX_SOCKET_BUFFER = 2**31 - 1  # setsockopt takes a C int


def port_number(text: str) -> int:
    """A port to listen on: 0 picks a free one."""
    port = int(text)
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 0 and 65535")
    return port


def client_port(text: str) -> int:
    """A port clients send to: a real one (0 only makes sense for listening)."""
    port = int(text)
    if not 1 <= port <= 65535:
        raise argparse.ArgumentTypeError(f"port {port} is not between 1 and 65535")
    return port


def positive_float(text: str) -> float:
    """A positive, finite number (an infinite interval or timeout would never come)."""
    value = float(text)
    if not (value > 0 and math.isfinite(value)):
        raise argparse.ArgumentTypeError(f"{text} is not a positive number")
    return value


def positive_int(text: str) -> int:
    value = int(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a positive integer")
    return value


def non_negative_int(text: str) -> int:
    value = int(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"{text} is not a whole number of 0 or more")
    return value


def socket_buffer(text: str) -> int:
    value = positive_int(text)
    if value > MAX_SOCKET_BUFFER:
        raise argparse.ArgumentTypeError(f"{text} is more than a socket buffer can be ({MAX_SOCKET_BUFFER} bytes)")
    return value


def day(text: str) -> str:
    """A UTC day, YYYY-MM-DD."""
    try:
        return dt.date.fromisoformat(text).isoformat()
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from error


def ip_address(text: str) -> str:
    """An address to listen on: an IPv4 or IPv6 address (the SDKs send to IPv4)."""
    try:
        return str(ipaddress.ip_address(text))
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r} is not an IP address (e.g. 127.0.0.1 or 0.0.0.0)") from error


def host_name(text: str) -> str:
    """A host clients connect to: an IP address or a DNS name."""
    if re.fullmatch(r"[A-Za-z0-9.-]{1,253}", text) or _is_ip(text):
        return text
    raise argparse.ArgumentTypeError(f"{text!r} is not a host name or IP address")


def profile_name(text: str) -> str:
    """An AWS config profile name: it becomes a section header `[profile NAME]`, so no bracket, no line break."""
    if not text or text != text.strip() or not text.isprintable() or "[" in text or "]" in text:
        raise argparse.ArgumentTypeError(f"{text!r} is not a profile name (printable characters, no '[' or ']')")
    return text


def config_value(text: str) -> str:
    """A value written on one line of the AWS config file: printable, no line break, not empty."""
    if not text.strip() or not text.isprintable():
        raise argparse.ArgumentTypeError(f"{text!r} is not a one-line value (printable characters, not empty)")
    return text


def day_range(since: str | None, until: str | None) -> tuple[str | None, str | None]:
    """--since/--until (YYYY-MM-DD days, either may be absent): ConfigError when --since is the later."""
    if since and until and since > until:
        raise ConfigError(f"--since {since} is later than --until {until}: no day is in between")
    return since, until


def _is_ip(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def workload_name(text: str) -> str:
    """A workload name to send as the proxy user: printable, no ':' (Basic auth ends the user there)."""
    if not 0 < len(text) <= MAX_WORKLOAD or ":" in text or not text.isprintable() or text != text.strip():
        raise argparse.ArgumentTypeError(f"{text!r}: a workload name is 1-{MAX_WORKLOAD} printable characters, no ':'")
    return text


def host_pattern(text: str) -> str:
    """An --intercept-host glob (`*.example.internal`, `localhost.localstack.cloud:4566`)."""
    try:
        host_regex(text)
    except HostPatternError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return text


def destination(text: str) -> str:
    """An --allow-destination: `HOST[:PORT]`, an address or network (`10.0.0.0/8`), `[IPv6]:PORT`."""
    try:
        allowed_destination(text)
    except DestinationError as error:
        raise argparse.ArgumentTypeError(str(error)) from error
    return text


def upstream_url(text: str) -> Upstream:
    """`http://127.0.0.1:5000` -> Upstream("http", "127.0.0.1", 5000); https defaults to 443, http to 80."""
    parts = urlsplit(text)
    try:
        port = parts.port
    except ValueError as error:
        raise argparse.ArgumentTypeError(f"{text!r}: {error}") from error
    if parts.scheme not in ("http", "https") or not parts.hostname or parts.path not in ("", "/") or parts.query:
        raise argparse.ArgumentTypeError(f"{text!r} is not an upstream URL like http://127.0.0.1:5000")
    return Upstream(parts.scheme, parts.hostname, port or (443 if parts.scheme == "https" else 80))


def attribute_name(text: str | None) -> str | None:
    """An OpenTelemetry attribute name (`deployment.environment`), or None when not given."""
    if text is None or not text.strip():
        return None
    name = text.strip()
    if len(name) > 255 or not re.fullmatch(r"[A-Za-z0-9_.:/-]+", name):
        raise ConfigError(f"--otlp-workload-attribute: {text!r} is not an attribute name (letters, digits, _ . : / -)")
    return name


def layer_arn(text: str | None, *, otlp: bool) -> str | None:
    """A Lambda layer version ARN for attach --otlp --layer-arn."""
    if not text:
        return None
    if not otlp:
        raise ConfigError("--layer-arn goes with --otlp")
    if not re.fullmatch(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:layer:[A-Za-z0-9_-]{1,140}:\d{1,10}", text):
        raise ConfigError(
            f"--layer-arn: {text!r} is not a layer version ARN (arn:aws:lambda:REGION:ACCOUNT:layer:NAME:N)"
        )
    return text


def parse_networks(text: str) -> tuple[Network, ...]:
    """'10.0.0.0/16,192.168.1.5' -> networks; ConfigError names the bad entry."""
    networks = []
    for item in (part.strip() for part in text.split(",")):
        if not item:
            continue
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError as error:
            raise ConfigError(f"--allow-from: {item!r} is not an IP network: {error}") from error
    if not networks:
        raise ConfigError("--allow-from: no network given")
    return tuple(networks)


def account_mapping(text: str) -> tuple[str, str]:
    """--account-map LEARNED=TARGET: two 12-digit account ids."""
    learned, _, target = text.partition("=")
    if not (re.fullmatch(r"\d{12}", learned.strip()) and re.fullmatch(r"\d{12}", target.strip())):
        raise argparse.ArgumentTypeError(f"{text!r} is not LEARNED=TARGET (two 12-digit account ids)")
    return learned.strip(), target.strip()


def normalise_s3_prefix(prefix: str) -> str:
    prefix = prefix.strip("/")
    return f"{prefix}/" if prefix else ""


def normalise_ssm_prefix(prefix: str) -> str:
    cleaned = "/" + prefix.strip("/")
    if cleaned.lower().startswith(("/aws", "/ssm")) or not all(c.isalnum() or c in "/_.-" for c in cleaned):
        raise ConfigError(f"SSM prefix {prefix!r}: use letters, digits, '/_.-', not starting with aws or ssm")
    return cleaned


def collector_id(name: str) -> str:
    """Names this collector's archive files: the given id (or the host name), as a safe file name part."""
    return re.sub(r"[^A-Za-z0-9_.-]", "_", name) or "collector"


def aws_config_file(environ: Mapping[str, str]) -> Path:
    configured = environ.get("AWS_CONFIG_FILE")
    return Path(configured).expanduser() if configured else Path("~/.aws/config").expanduser()


def non_negative_float(text: str) -> float:
    value = float(text)
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"{text} is not a number >= 0")
    return value


def webhook_url(text: str) -> str:
    """An http(s) URL to POST alerts to."""
    parts = urlsplit(text)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ConfigError(f"--alerts-webhook {parts.scheme or '?'}://...: expected an http:// or https:// URL")
    return text
