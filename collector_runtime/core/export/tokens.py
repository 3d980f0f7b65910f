"""A learned policy with the learning account, region and partition as tokens. Pure.

A policy learned in a sandbox names the sandbox's account (and region, partition) in its ARNs. Exported,
those become the target's own tokens (`Aws.ACCOUNT_ID`, `${AWS::AccountId}`, ...), so it deploys in any
account; an account of `account_map` becomes its target instead, and any other account stays literal.

A tokenized document is the policy's JSON tree with every string replaced by a `Text`: literal pieces and
tokens, which each renderer writes in its own syntax (`resolve` turns it back into plain JSON).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import Enum
from typing import Any

from ..arns import is_account_id
from ..policy_size import MANAGED_POLICY_MAX_CHARS, split_policy

TOKENIZED_KEYS = ("Resource", "NotResource", "Condition", "Principal", "NotPrincipal")  # where ARNs appear


class Token(Enum):
    ACCOUNT = "account"
    REGION = "region"
    PARTITION = "partition"


@dataclass(frozen=True)
class Text:
    """A string of the policy: literal pieces and tokens, in order."""

    pieces: tuple[str | Token, ...]

    @property
    def literal(self) -> str | None:
        """The string when it has no token, else None."""
        return "".join(p for p in self.pieces if isinstance(p, str)) if self.tokens == () else None

    @property
    def tokens(self) -> tuple[Token, ...]:
        return tuple(p for p in self.pieces if isinstance(p, Token))

    def resolve(self, values: Mapping[Token, str]) -> str:
        return "".join(p if isinstance(p, str) else values[p] for p in self.pieces)


@dataclass(frozen=True)
class Learned:
    """Where a workload's policy was learned: its caller account(s), its one region (None when it called
    several: regions then stay literal) and partition."""

    accounts: frozenset[str]
    region: str | None = None
    partition: str = "aws"

    def values(self, account: str | None = None) -> dict[Token, str]:
        """Token values that give back the learned policy (`account` for the learned account(s))."""
        return {
            Token.ACCOUNT: account or min(self.accounts, default=""),
            Token.REGION: self.region or "",
            Token.PARTITION: self.partition,
        }


# Longest values a token takes anywhere (12-digit accounts; regions such as ap-southeast-5, partitions
# such as aws-us-gov): a part measured with these stays under the limit in every account and region.
_LONGEST = {Token.ACCOUNT: "0" * 12, Token.REGION: "x" * 20, Token.PARTITION: "x" * 12}


def tokenize(document: dict[str, Any], learned: Learned, account_map: Mapping[str, str]) -> dict[str, Any]:
    """The document with its ARNs' learned account, region and partition as tokens."""
    statements = document.get("Statement", [])
    statements = [statements] if isinstance(statements, dict) else list(statements)
    return {
        **{key: _tree(value, _plain) for key, value in document.items() if key != "Statement"},
        "Statement": [
            {
                key: _tree(value, (lambda s: _text(s, learned, account_map)) if key in TOKENIZED_KEYS else _plain)
                for key, value in statement.items()
            }
            for statement in statements
        ],
    }


def resolve(tree: Any, values: Mapping[Token, str]) -> Any:
    """The plain JSON of a tokenized tree, each token written as its value."""
    if isinstance(tree, Text):
        return tree.resolve(values)
    if isinstance(tree, dict):
        return {key: resolve(value, values) for key, value in tree.items()}
    if isinstance(tree, list):
        return [resolve(value, values) for value in tree]
    return tree


def split(tree: dict[str, Any], max_chars: int = MANAGED_POLICY_MAX_CHARS) -> list[dict[str, Any]]:
    """Tokenized documents each under `max_chars` in any account and region, together granting what
    `tree` grants; statements keep their Sids and order (split by actions, as the collector splits)."""
    measured = resolve(tree, _LONGEST)
    parts = split_policy(measured, max_chars)
    if len(parts) == 1:
        return [tree]
    sids = [statement.get("Sid") for statement in measured["Statement"]]
    if None in sids or len(set(sids)) != len(sids):
        raise ValueError("a policy over the size limit needs a distinct Sid in every statement to be split")
    by_sid = dict(zip(sids, tree["Statement"], strict=True))
    return [
        {**tree, "Statement": [{**by_sid[s["Sid"]], "Action": _tree(s["Action"], _plain)} for s in part["Statement"]]}
        for part in parts
    ]


def _plain(value: str) -> Text:
    return Text((value,))


def _tree(value: Any, text: Any) -> Any:
    if isinstance(value, str):
        return text(value)
    if isinstance(value, dict):
        return {key: _tree(item, text) for key, item in value.items()}
    if isinstance(value, list):
        return [_tree(item, text) for item in value]
    return value


def _text(value: str, learned: Learned, account_map: Mapping[str, str]) -> Text:
    if is_account_id(value):
        return Text((_account(value, learned, account_map),))
    parts = value.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn":
        return Text((value,))
    _, partition, service, region, account, resource = parts
    pieces: list[str | Token] = [
        "arn:",
        Token.PARTITION if partition == learned.partition else partition,
        f":{service}:",
        Token.REGION if region and region == learned.region else region,
        ":",
        _account(account, learned, account_map) if account else "",
        f":{resource}",
    ]
    return Text(_joined(pieces))


def _account(account: str, learned: Learned, account_map: Mapping[str, str]) -> str | Token:
    if account in account_map:
        return account_map[account]
    return Token.ACCOUNT if account in learned.accounts else account


def _joined(pieces: list[str | Token]) -> tuple[str | Token, ...]:
    """Adjacent literal pieces as one; no empty ones."""
    joined: list[str | Token] = []
    for piece in pieces:
        if isinstance(piece, str) and joined and isinstance(joined[-1], str):
            joined[-1] += piece
        elif piece != "":
            joined.append(piece)
    return tuple(joined)
