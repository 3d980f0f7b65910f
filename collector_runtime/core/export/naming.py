"""Names an export gives a workload's policy in each target language, from its ClientId. Pure."""

from __future__ import annotations

import re

from ..names import workload_file_stem

_WORDS = re.compile(r"[A-Za-z0-9]+")
_IAM_UNSAFE = re.compile(r"[^\w+=,.@-]", re.ASCII)
IAM_NAME_MAX = 128


def words(workload: str) -> list[str]:
    found = _WORDS.findall(workload)[:12] or ["workload"]
    return ["w", *found] if found[0][0].isdigit() else found


def snake(workload: str) -> str:
    """orders-api -> orders_api (Python functions, Terraform names)."""
    return "_".join(word.lower() for word in words(workload))


def camel(workload: str) -> str:
    """orders-api -> ordersApi (TypeScript functions)."""
    first, *rest = words(workload)
    return first.lower() + "".join(word[:1].upper() + word[1:].lower() for word in rest)


def pascal(workload: str) -> str:
    """orders-api -> OrdersApi (CloudFormation logical ids)."""
    return "".join(word[:1].upper() + word[1:].lower() for word in words(workload))


def policy_name(workload: str, part: int, parts: int) -> str:
    """The managed policy's IAM name: csm-<workload>, csm-<workload>-part2 ... (IAM's name characters)."""
    suffix = f"-part{part}" if parts > 1 else ""
    return f"csm-{_IAM_UNSAFE.sub('-', workload_file_stem(workload))}"[: IAM_NAME_MAX - len(suffix)] + suffix
