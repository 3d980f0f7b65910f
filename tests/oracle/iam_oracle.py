"""An independent IAM policy evaluator for tests: `@cloud-copilot/iam-simulate` (npm), run by Node.

The project did not write it, so a test can check a generated policy against an evaluator that shares none
of its assumptions. It is AGPL-3.0: a devDependency in package.json, used only here at test time, never
imported by collector_runtime nor shipped. One Node process evaluates a whole batch (simulate.mjs).

    decisions = evaluate(policy, [Request("s3:GetObject", "arn:aws:s3:::b/k", account="123456789012")])
    assert decisions[0].identity_allowed, decisions[0].reason
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

REPO_ROOT = Path(__file__).resolve().parents[2]
SCRIPT = Path(__file__).with_name("simulate.mjs")
PACKAGE = "@cloud-copilot/iam-simulate"
DEFAULT_PRINCIPAL = "arn:aws:iam::{account}:role/csm-oracle-caller"

Result = Literal["Allowed", "ExplicitlyDenied", "ImplicitlyDenied"]
Policy = Mapping[str, Any]
_ACCOUNT = re.compile(r"\d{12}")


class OracleUnavailable(RuntimeError):
    """Node or the npm package is missing: `make setup` (or `npm ci`) installs them."""


class OracleError(RuntimeError):
    """The evaluator refused the input (invalid policy, unknown action, ARN of no resource type of the action)."""


def _arn_parts(resource: str) -> list[str]:
    parts = resource.split(":", 5)
    return parts if len(parts) == 6 and parts[0] == "arn" else []


@dataclass(frozen=True)
class Request:
    """One call to evaluate: who calls (`account`, `principal`), what (`action`) on which `resource`.

    - `resource`: a concrete ARN, or "*" for an action without resource types (e.g. s3:ListAllMyBuckets).
    - `account`: the caller's (principal's) account.
    - `resource_account`: the account that owns the resource. None: the ARN's account if it has one, else the
      caller's (S3 ARNs have none: pass it for a bucket in another account). A value contradicting the ARN's
      account is an error.
    - `region`: the region called. None: the ARN's region, if any. Sets `aws:RequestedRegion`.
    - `context`: condition keys, e.g. {"iam:PassedToService": "lambda.amazonaws.com"}. They override the keys
      derived here: aws:PrincipalArn, aws:PrincipalAccount, aws:ResourceAccount, aws:RequestedRegion.
    - `resource_policy`: the resource's own policy (bucket, key, queue policy), if any; `trusting(account)`.
    """

    action: str
    resource: str
    account: str
    resource_account: str | None = None
    region: str | None = None
    context: Mapping[str, str | Sequence[str]] = field(default_factory=dict)
    principal: str | None = None
    resource_policy: Policy | None = None

    def __post_init__(self) -> None:
        if not _ACCOUNT.fullmatch(self.account):
            raise ValueError(f"account must be 12 digits: {self.account!r}")
        arn_account = self.arn_account
        if self.resource_account is not None:
            if not _ACCOUNT.fullmatch(self.resource_account):
                raise ValueError(f"resource_account must be 12 digits: {self.resource_account!r}")
            if arn_account and arn_account != self.resource_account:
                raise ValueError(f"resource_account {self.resource_account} contradicts {self.resource}")

    @property
    def arn_account(self) -> str | None:
        parts = _arn_parts(self.resource)
        return parts[4] if parts and _ACCOUNT.fullmatch(parts[4]) else None

    @property
    def owner(self) -> str:
        """The resource's account as evaluated."""
        return self.resource_account or self.arn_account or self.account

    @property
    def called_region(self) -> str | None:
        parts = _arn_parts(self.resource)
        return self.region or (parts[3] if parts and parts[3] and "*" not in parts[3] else None)

    def payload(self) -> dict[str, Any]:
        principal = self.principal or DEFAULT_PRINCIPAL.format(account=self.account)
        context: dict[str, Any] = {
            "aws:PrincipalArn": principal,
            "aws:PrincipalAccount": self.account,
            "aws:ResourceAccount": self.owner,
        }
        if self.called_region:
            context["aws:RequestedRegion"] = self.called_region
        context.update({key: value if isinstance(value, str) else list(value) for key, value in self.context.items()})
        payload: dict[str, Any] = {
            "action": self.action,
            "resource": self.resource,
            "account": self.account,
            "resource_account": self.owner,
            "principal": principal,
            "context": context,
        }
        if self.resource_policy is not None:
            payload["resource_policy"] = dict(self.resource_policy)
        return payload


@dataclass(frozen=True)
class Decision:
    """The evaluator's answer for one request.

    `result` is the whole decision as iam-simulate models AWS with the policies given (no SCPs, RCPs or
    boundaries): a cross-account call, or one on a KMS key, is denied unless `Request.resource_policy`
    grants it. `identity_result` is the identity policy's own decision (its Allow and Deny statements
    against action, resource ARN and conditions): what a generated identity policy controls.
    """

    request: Request
    result: Result
    identity_result: Result
    reason: str
    allow_statements: tuple[str, ...] = ()
    deny_statements: tuple[str, ...] = ()
    same_account: bool = True
    blocked_by: tuple[str, ...] = ()
    resource_type: str | None = None
    ignored_context_keys: tuple[str, ...] = ()  # keys that do not apply to this action and resource type

    @property
    def allowed(self) -> bool:
        return self.result == "Allowed"

    @property
    def identity_allowed(self) -> bool:
        return self.identity_result == "Allowed"


def trusting(account: str) -> dict[str, Any]:
    """A resource policy that lets `account`'s own IAM policies decide (the default KMS key policy's shape)."""
    statement = {
        "Effect": "Allow",
        "Principal": {"AWS": f"arn:aws:iam::{account}:root"},
        "Action": "*",
        "Resource": "*",
    }
    return {"Version": "2012-10-17", "Statement": [statement]}


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        raise OracleUnavailable("node is not on PATH: the IAM oracle needs Node 20+ (as `make test` does)")
    installed = REPO_ROOT / "node_modules" / PACKAGE / "package.json"
    if not installed.is_file():
        raise OracleUnavailable(f"{PACKAGE} is not installed in {REPO_ROOT / 'node_modules'}: run `make setup`")
    pinned = json.loads((REPO_ROOT / "package.json").read_text())["devDependencies"][PACKAGE]
    version = json.loads(installed.read_text())["version"]
    if version != pinned:
        raise OracleUnavailable(f"{PACKAGE} {version} is installed but package.json pins {pinned}: run `npm ci`")
    return node


def evaluate(policy: Policy | Sequence[Policy], requests: Sequence[Request], *, timeout: float = 120) -> list[Decision]:
    """Evaluate each request against the identity policy (or policies, all attached to the caller).

    One Node process for the whole batch. Raises OracleError, listing every refused request, if the
    evaluator refuses any: a refused request must never pass for a denied one.
    """
    policies = [dict(policy)] if isinstance(policy, Mapping) else [dict(p) for p in policy]
    document = {"policies": policies, "requests": [request.payload() for request in requests]}
    completed = subprocess.run(
        [_node(), str(SCRIPT)],
        input=json.dumps(document),
        capture_output=True,
        text=True,
        cwd=REPO_ROOT,
        timeout=timeout,
    )
    if completed.returncode != 0:
        raise OracleError(f"simulate.mjs exited {completed.returncode}: {completed.stderr.strip()}")
    answers = [json.loads(line) for line in completed.stdout.splitlines()]
    if len(answers) != len(requests):
        raise OracleError(f"{len(requests)} requests but {len(answers)} answers: {completed.stderr.strip()}")
    refused = [
        f"  [{i}] {requests[i].action} on {requests[i].resource}: {answer['error']}"
        for i, answer in enumerate(answers)
        if answer["result"] == "Error"
    ]
    if refused:
        raise OracleError(f"{PACKAGE} refused {len(refused)} of {len(requests)} requests:\n" + "\n".join(refused))
    return [_decision(request, answer) for request, answer in zip(requests, answers, strict=True)]


def _decision(request: Request, answer: Mapping[str, Any]) -> Decision:
    return Decision(
        request=request,
        result=answer["result"],
        identity_result=answer["identity_result"],
        reason=answer["reason"],
        allow_statements=tuple(answer["allow_statements"]),
        deny_statements=tuple(answer["deny_statements"]),
        same_account=answer["same_account"],
        blocked_by=tuple(answer["blocked_by"]),
        resource_type=answer["resource_type"],
        ignored_context_keys=tuple(answer["ignored_context_keys"]),
    )


def _failures(decisions: Sequence[Decision], want: bool) -> str:
    wrong = [d for d in decisions if d.identity_allowed != want]
    lines = [f"  {d.request.action} on {d.request.resource} ({d.request.owner}): {d.reason}" for d in wrong]
    verb = "allow" if want else "deny"
    return f"the policy does not {verb} {len(wrong)} of {len(decisions)} requests:\n" + "\n".join(lines)


def assert_policy_allows(policy: Policy | Sequence[Policy], requests: Sequence[Request]) -> None:
    """Every request is allowed by the identity policy itself (`Decision.identity_allowed`)."""
    decisions = evaluate(policy, requests)
    assert all(d.identity_allowed for d in decisions), _failures(decisions, want=True)


def assert_policy_denies(policy: Policy | Sequence[Policy], requests: Sequence[Request]) -> None:
    """No request is allowed by the identity policy itself (implicitly or explicitly denied)."""
    decisions = evaluate(policy, requests)
    assert not any(d.identity_allowed for d in decisions), _failures(decisions, want=False)
