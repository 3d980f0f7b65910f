"""Point a Lambda function's environment at a collector, and back. Pure: dictionaries in and out.

`attach` merges the four AWS_CSM_* variables into the function's environment and records, in one
extra variable, what they replaced (or that they were absent), so `detach` restores the exact
previous environment. Attaching again keeps the first record: detach always returns to the
environment from before the first attach.
"""

from __future__ import annotations

import ipaddress
import json
from typing import Any

from ..contract import CSM_CLIENT_ID, CSM_ENABLED, CSM_HOST, CSM_PORT, CSM_VARIABLES
from ..contract import SAVED_ENV as SAVED


class AttachError(ValueError):
    """The environment cannot be changed safely; the message says why."""


def attach(env: dict[str, str], *, host: str, port: int, client_id: str) -> dict[str, str]:
    updated = dict(env)
    if SAVED not in env:
        updated[SAVED] = json.dumps({name: env.get(name) for name in CSM_VARIABLES}, sort_keys=True)
    updated.update({CSM_ENABLED: "true", CSM_HOST: host, CSM_PORT: str(port), CSM_CLIENT_ID: client_id})
    return updated


def detach(env: dict[str, str]) -> dict[str, str]:
    if SAVED not in env:
        raise AttachError(f"not attached by csm-collector (no {SAVED} variable): nothing to restore")
    try:
        saved = json.loads(env[SAVED])
    except ValueError as error:
        raise AttachError(f"{SAVED} is not valid JSON: {error}") from error
    restored = {k: v for k, v in env.items() if k not in (*CSM_VARIABLES, SAVED)}
    restored.update({name: value for name, value in saved.items() if name in CSM_VARIABLES and value is not None})
    return restored


def changes(before: dict[str, str], after: dict[str, str]) -> list[str]:
    """Human-readable differences, for --dry-run and the log."""
    lines = []
    for name in sorted(set(before) | set(after)):
        old, new = before.get(name), after.get(name)
        if old == new:
            continue
        if old is None:
            lines.append(f"+ {name}={new}")
        elif new is None:
            lines.append(f"- {name} (was {old})")
        else:
            lines.append(f"~ {name}: {old} -> {new}")
    return lines


# --- warnings: will this function be able to report? -------------------------------------------------

_NO_CSM_RUNTIMES = {
    "nodejs": "Node.js 18+ runtimes bundle the JavaScript SDK v3, which does not emit CSM (SDK v2 does)",
    "java": "Java 17+ functions usually use the Java SDK v2, which does not emit CSM (SDK v1 does)",
    "provided": "custom runtimes (often Go SDK v2, e.g. Go functions) do not emit CSM; Go SDK v1 does",
    "go": "the Go SDK v2 does not emit CSM; Go SDK v1 does",
}


def runtime_warning(runtime: str | None, package_type: str | None) -> str | None:
    if package_type == "Image" or not runtime:
        return "container image function: cannot tell whether its SDK emits CSM (boto3, SDK v1/v2 JS, Java v1 do)"
    if runtime.startswith("nodejs") and _major(runtime) >= 18:
        return _NO_CSM_RUNTIMES["nodejs"]
    if runtime.startswith("java") and _major(runtime) >= 17:
        return _NO_CSM_RUNTIMES["java"]
    if runtime.startswith("provided"):
        return _NO_CSM_RUNTIMES["provided"]
    if runtime.startswith("go"):
        return _NO_CSM_RUNTIMES["go"]
    return None


def _major(runtime: str) -> int:
    digits = "".join(c if c.isdigit() else " " for c in runtime).split()
    return int(digits[0]) if digits else 0


def address_in(host: str, cidrs: list[str]) -> bool | None:
    """Whether an IP address is inside one of the CIDRs; None when `host` is a name."""
    try:
        ip = ipaddress.ip_address(host)
    except ValueError:
        return None
    return any(ip in ipaddress.ip_network(cidr, strict=False) for cidr in cidrs)


def egress_allows(groups: list[dict[str, Any]], host: str, port: int, *, protocol: str = "udp") -> bool:
    """Whether any of these security groups (describe_security_groups output) lets `protocol` out to host:port."""
    for group in groups:
        for rule in group.get("IpPermissionsEgress", []):
            if not _rule_covers(rule, port, protocol):
                continue
            cidrs = [r["CidrIp"] for r in rule.get("IpRanges", [])] + [
                r["CidrIpv6"] for r in rule.get("Ipv6Ranges", [])
            ]
            if rule.get("UserIdGroupPairs") or rule.get("PrefixListIds") or address_in(host, cidrs) in (True, None):
                return True
    return False


def _rule_covers(rule: dict[str, Any], port: int, protocol: str) -> bool:
    allowed = str(rule.get("IpProtocol"))
    if allowed == "-1":
        return True
    if allowed not in {"udp": ("udp", "17"), "tcp": ("tcp", "6")}[protocol]:
        return False
    return int(rule.get("FromPort", 0)) <= port <= int(rule.get("ToPort", 65535))
