"""The AWS account an access key id belongs to (a public, documented encoding), and the one account a
caller's traffic shows when its key id encodes none. Pure."""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Iterable
from typing import Any

from .arns import ARN_PREFIX, account_of_arn
from .identifier_arns import OTHER_RESOURCE

_ENCODING_PREFIXES = ("AKIA", "ASIA")  # long-term and temporary keys
# Current-format ids set the top bit of the encoded 48 bits, so their fifth character is in the upper half
# of the base32 alphabet; older ids (AKIAI..., AKIAJ...) do not, and carry no account.
_CURRENT_FORMAT_FIRST = frozenset("QRSTUVWXYZ234567")


def account_from_access_key(access_key: Any) -> str | None:
    """The 12-digit account id encoded in a current-format AKIA/ASIA access key id, else None.

    Base32 of the 16 characters after the prefix; the account is bits 46..7 of the first 6 bytes. Older
    key ids (those starting AKIAI or AKIAJ, like AWS's documentation example) encode no account."""
    if not isinstance(access_key, str) or len(access_key) != 20 or access_key[:4] not in _ENCODING_PREFIXES:
        return None
    if access_key[4] not in _CURRENT_FORMAT_FIRST:
        return None
    try:
        decoded = base64.b32decode(access_key[4:])
    except (binascii.Error, ValueError):
        return None
    account = (int.from_bytes(decoded[:6], "big") & 0x7FFFFFFFFF80) >> 7
    return f"{account:012d}"


def example_access_key(account: str, kind: str = "ASIA") -> str:
    """A current-format access key id that encodes `account` (for the demo and tests, which talk to moto:
    any key id works there, and one like this shows how policies are scoped to the caller's account)."""
    value = (1 << 47) | (int(account) << 7)
    return kind + base64.b32encode(value.to_bytes(6, "big") + b"demo").decode()


def caller_account(scopes: Iterable[tuple[str | None, str | None, tuple[str, ...]]]) -> str | None:
    """The one account a caller's calls show: the account of its calls where a source knew it (an access
    key id, an STS response), else the one account of every resource ARN they named (a queue URL, a role
    ARN); None when there is none or more than one (a caller that reaches into other accounts)."""
    scopes = list(scopes)
    known = {account for _, account, _ in scopes if account}
    if not known:
        found = (account_of_arn(arn.removeprefix(OTHER_RESOURCE)) for _, _, resources in scopes for arn in resources)
        known = {account for account in found if account}
    return known.pop() if len(known) == 1 else None


_UNKNOWN_ACCOUNT = re.compile(rf"^((?:{re.escape(OTHER_RESOURCE)})?{ARN_PREFIX}[a-z0-9-]*:)\*:")


def in_account(arn: str, account: str) -> str:
    """An ARN a source filled without the caller's account (`arn:aws:iam::*:role/x`), in `account`."""
    return _UNKNOWN_ACCOUNT.sub(lambda match: match.group(1) + account + ":", arn, count=1)
