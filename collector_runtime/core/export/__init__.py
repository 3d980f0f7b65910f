"""Export a learned policy as code: plain JSON, CDK (Python, TypeScript), CloudFormation (YAML, JSON) and
Terraform, with the learning account, region and partition written as the target's own tokens. Pure:
a decided policy document in, texts out. Stable: statements keep their Sids and order, so re-exporting
after more learning changes only what was learned.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from ..policy_size import MANAGED_POLICY_MAX_CHARS
from .tokens import Learned, Token, resolve, split, tokenize


@dataclass(frozen=True)
class ExportPolicy:
    workload: str
    learned: Learned
    document: dict[str, Any]  # tokenized (see tokens.py)
    parts: list[dict[str, Any]]  # the same, split into documents each under the managed-policy size limit


def export_policy(
    workload: str,
    document: dict[str, Any],
    learned: Learned,
    account_map: Mapping[str, str] | None = None,
    max_chars: int = MANAGED_POLICY_MAX_CHARS,
) -> ExportPolicy:
    tokenized = tokenize(document, learned, account_map or {})
    return ExportPolicy(workload, learned, tokenized, split(tokenized, max_chars))


def render(format_name: str, policy: ExportPolicy) -> str:
    return FORMATS[format_name][1](policy)


def resolved_parts(policy: ExportPolicy, values: Mapping[Token, str]) -> list[dict[str, Any]]:
    """The plain policy documents of the parts, each token written as its value."""
    return [resolve(part, values) for part in policy.parts]


def _formats() -> dict[str, tuple[str, Callable[[ExportPolicy], str]]]:
    from . import cdk, cloudformation, plain, terraform

    return {
        "json": (".json", plain.render),
        "cdk-python": (".py", cdk.render_python),
        "cdk-typescript": (".ts", cdk.render_typescript),
        "cloudformation": (".yaml", cloudformation.render_yaml),
        "cloudformation-json": (".template.json", cloudformation.render_json),
        "terraform": (".tf", terraform.render),
    }


FORMATS = _formats()  # format name -> (file suffix, renderer)
