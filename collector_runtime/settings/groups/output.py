"""Where and how policies are written (listen, proxy, replay, report, demo): the "policy" flags."""

from __future__ import annotations

import argparse
from dataclasses import dataclass, field
from pathlib import Path

from ...core.policy import PolicyOptions
from ...core.policy_size import MANAGED_POLICY_MAX_CHARS
from ...core.scoping import RESOURCE_SCOPES
from ..flags import Group, flag, group
from ..values import positive_int


@dataclass(frozen=True)
class OutputOptions:
    """Where and how policies are written (listen, replay, report, demo)."""

    output_dir: Path = Path("csm-output")
    policy: PolicyOptions = field(default_factory=PolicyOptions)
    max_policy_chars: int = MANAGED_POLICY_MAX_CHARS
    explain: bool = False


def output_flags(defaults: OutputOptions) -> Group:
    """The policy flags, with this command's defaults (its output directory differs)."""
    policy = defaults.policy
    return group(
        "policy",
        flag(
            "--output-dir",
            type=Path,
            default=defaults.output_dir,
            help="where results are written (default: %(default)s)",
        ),
        flag(
            "--fails-only",
            action="store_true",
            default=policy.fails_only,
            help="only learn from calls that failed, e.g. AccessDenied loops",
        ),
        flag(
            "--sort-alphabetical",
            action=argparse.BooleanOptionalAction,
            default=policy.sort_alphabetical,
            help="sort actions alphabetically instead of first-seen order (default: on)",
        ),
        flag(
            "--force-wildcard-resource",
            action="store_true",
            default=policy.force_wildcard_resource,
            help='always use "Resource": "*" (no resource scoping at all)',
        ),
        flag(
            "--dependent-actions",
            action=argparse.BooleanOptionalAction,
            default=policy.include_dependent,
            help="also grant every request-dependent action the calls may need, in their own statements (default: off)",
        ),
        flag(
            "--resource-scope",
            choices=RESOURCE_SCOPES,
            default=policy.resource_scope,
            help="how far a resource the calls did not name is scoped: to the call's region and account, its "
            "account only, or neither (default: %(default)s)",
        ),
        flag(
            "--exact-names",
            action=argparse.BooleanOptionalAction,
            default=policy.exact_names,
            help="grant the resource names the calls used as they are, without turning their generated parts "
            "(dates, UUIDs, random suffixes) into wildcards (default: off)",
        ),
        flag(
            "--max-policy-chars",
            type=positive_int,
            default=defaults.max_policy_chars,
            help="split a policy into parts above this size (default: %(default)s, IAM's managed-policy limit)",
        ),
        flag("--explain", action="store_true", default=defaults.explain, help="show where each mapping comes from"),
    )


def output_options(args: argparse.Namespace) -> OutputOptions:
    return OutputOptions(
        output_dir=Path(args.output_dir),
        policy=PolicyOptions(
            sort_alphabetical=args.sort_alphabetical,
            force_wildcard_resource=args.force_wildcard_resource,
            include_dependent=args.dependent_actions,
            fails_only=args.fails_only,
            resource_scope=args.resource_scope,
            exact_names=args.exact_names,
        ),
        max_policy_chars=args.max_policy_chars,
        explain=args.explain,
    )
