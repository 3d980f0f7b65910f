"""Flags about AWS itself that several commands take: the region, and mapping a learned account to another."""

from __future__ import annotations

from ..flags import Flag, flag
from ..values import account_mapping


def region_flag(what: str = "AWS region") -> Flag:
    return flag("--region", help=f"{what} (default: the SDK's usual lookup)")


ACCOUNT_MAP = flag(
    "--account-map",
    type=account_mapping,
    action="append",
    metavar="LEARNED=TARGET",
    help="write the learned account LEARNED as the account TARGET (repeatable); without it, the learning "
    "account becomes the target's own",
)
