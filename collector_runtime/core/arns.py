"""ARN formats of the Service Authorization Reference: read the names out of an ARN, fill a format with
what is known, and compare ARN patterns the way IAM does. Pure.

A format such as `arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}` is filled with
the partition, region and account of a call and with the names its resources bound (`TableName` from a
table ARN the source named); what is unknown becomes `*`.

The one copy of the shapes an ARN is made of, which every source checks: a region (botocore's partitions) and
a name a region could have, an account id, an ARN's head and the account in it.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from .arn_reader import read_names
from .partition_table import PARTITIONS
from .wildcard import has_wildcard, matches

PARTITION, REGION, ACCOUNT = "Partition", "Region", "Account"
_PLACEHOLDER = re.compile(r"\$\{([A-Za-z0-9]+)\}")
_LOCATION = frozenset({PARTITION, REGION, ACCOUNT})


# botocore's partitions (generated: partition_table.py): a listed region, else the partition whose pattern
# matches (a region newer than the table), else "aws", as botocore resolves them.
_LISTED = {region: partition for partition, _, regions in PARTITIONS for region in regions}
_PATTERNS = tuple((re.compile(pattern), partition) for partition, pattern, _ in PARTITIONS)
MAX_REGION = 64  # longer than any region name; a longer one is not matched against the patterns
# The patterns' `\w` would take upper case, `_` and any script's letters: a region is lower-case ASCII.
_REGION_CHARACTERS = re.compile(rf"^[a-z0-9-]{{1,{MAX_REGION}}}$")

ACCOUNT_ID = "[0-9]{12}"  # a pattern's text: ASCII digits (`\d` takes any script's)
_ACCOUNT_ID = re.compile(rf"^{ACCOUNT_ID}$")
ARN_PREFIX = r"arn:aws[a-z-]*:[a-z0-9-]{1,64}:"  # a pattern's text: `arn:<partition>:<service>:`
_ARN_HEAD = re.compile(rf"^{ARN_PREFIX}[a-z0-9-]*:({ACCOUNT_ID})?:")  # then `<region>:<account>:`, maybe empty
_ARN = re.compile(rf"^{ARN_PREFIX}[a-z0-9-]*:(?:{ACCOUNT_ID})?:[^\s]{{1,1500}}$")
_ARN_START = re.compile(rf"^{ARN_PREFIX}")
# An IAM role's ARN: its path and name of IAM's characters (what iam:PassRole is authorized on).
_ROLE_ARN = re.compile(rf"arn:aws[a-z-]*:iam::{ACCOUNT_ID}:role/[A-Za-z0-9+=,.@_/-]{{1,512}}")
MAX_ARN = 2_048


def is_region(name: str) -> bool:
    """Whether `name` is a region: one the pattern of one of botocore's partitions matches (`eu-west-1`,
    `us-iso-east-1`, `eusc-de-east-1`, a region newer than the table); not its pseudo-regions (`aws-global`)."""
    return _REGION_CHARACTERS.fullmatch(name) is not None and any(pattern.match(name) for pattern, _ in _PATTERNS)


def is_region_name(value: object) -> bool:
    """Whether `value` is a name a region could have (lower-case ASCII letters, digits and dashes, at most
    MAX_REGION): what a source keeps as a call's region, including one newer than botocore's table. Anything
    else, a wildcard above all, would reach the policy's ARNs: the source refuses the record instead."""
    return type(value) is str and _REGION_CHARACTERS.fullmatch(value) is not None


def is_account_id(value: str) -> bool:
    return _ACCOUNT_ID.match(value) is not None


def is_arn(value: str) -> bool:
    """Whether `value` is an ARN: its head, then a resource of no spaces."""
    return len(value) <= MAX_ARN and _ARN.match(value) is not None


def is_role_arn(value: str) -> bool:
    return _ROLE_ARN.fullmatch(value) is not None


def starts_like_arn(value: str) -> bool:
    """Whether `value` begins like an ARN, `arn:<partition>:<service>:` (what follows is not checked: the
    account of an AWS managed policy's ARN is `aws`)."""
    return _ARN_START.match(value) is not None


def account_of_arn(arn: str) -> str | None:
    """The account an ARN names (`arn:aws:sqs:eu-west-1:123456789012:q` -> `123456789012`), else None."""
    match = _ARN_HEAD.match(arn)
    return match.group(1) if match else None


def partition_of(region: str | None) -> str:
    """The partition of a region name: `us-iso-east-1` -> `aws-iso`, `cn-north-1` -> `aws-cn`; unknown: `aws`."""
    if not region:
        return "aws"
    listed = _LISTED.get(region)
    if listed is not None:
        return listed
    if len(region) <= MAX_REGION:
        for pattern, partition in _PATTERNS:
            if pattern.match(region):
                return partition
    return "aws"


@dataclass(frozen=True)
class ArnFormat:
    text: str
    names: tuple[str, ...]  # its named placeholders, in order (Partition, Region and Account excluded)
    parts: tuple[tuple[str, str], ...]  # (literal text, the placeholder after it or "")
    specificity: int  # how much of it is literal or named: the best of several matching formats wins

    def fill(self, partition: str, region: str, account: str, bound: Mapping[str, str]) -> str:
        """The format with every placeholder replaced: a bound name, or `*` for an unknown one."""
        values = {PARTITION: partition, REGION: region, ACCOUNT: account}
        return "".join(
            literal + (values[name] if name in values else bound.get(name, "*")) if name else literal
            for literal, name in self.parts
        )

    def read(self, arn: str) -> dict[str, str] | None:
        """The names `arn` binds in this format (None: it is no ARN of it); linear time, no regex."""
        return read_names(self.parts, arn)


@functools.lru_cache(maxsize=4096)
def arn_format(text: str) -> ArnFormat:
    parts, names, position = [], [], 0
    for match in _PLACEHOLDER.finditer(text):
        parts.append((text[position : match.start()], match.group(1)))
        if match.group(1) not in _LOCATION and match.group(1) not in names:
            names.append(match.group(1))
        position = match.end()
    parts.append((text[position:], ""))
    literal = len(_PLACEHOLDER.sub("", text))
    return ArnFormat(text, tuple(names), tuple(parts), literal + 10 * len(names))


def read_arn(arn: str, formats: Iterable[str], *, any_name: bool = False) -> tuple[ArnFormat, dict[str, str]] | None:
    """The most specific of `formats` that `arn` is an ARN of, and the names it binds (a wildcard binds none, a
    literal form such as `${*}` is a name's character;
    with `any_name`, a name that is `*` itself binds `*`: `arn:aws:s3:::*` is "some bucket", not an
    access point)."""
    best: tuple[ArnFormat, dict[str, str]] | None = None
    for text in formats:
        candidate = arn_format(text)
        names = candidate.read(arn)
        if names is not None and (best is None or candidate.specificity > best[0].specificity):
            bound = {
                k: v
                for k, v in names.items()
                if v and (not has_wildcard(v) or (any_name and v == "*" and k not in _LOCATION))
            }
            best = (candidate, bound)
    return best


def covers(pattern: str, arn: str) -> bool:
    """Whether an IAM resource pattern (`*` any run of characters, `?` one) matches `arn`, which may itself be
    a pattern: then it is covered when every ARN it matches is."""
    if pattern in {"*", arn}:
        return True
    star = pattern.find("*")
    if star == len(pattern) - 1 and "?" not in pattern:  # the common shape, `...:table/*`: a prefix test
        return arn.startswith(pattern[:-1])
    return matches(pattern, arn)  # linear-time, never a regex: both may come from a client


def without_covered(patterns: Iterable[str]) -> frozenset[str]:
    """The patterns that no other one covers (`table/*` makes `table/*/index/*` redundant)."""
    return _without_covered(frozenset(patterns))


@functools.lru_cache(maxsize=16384)
def _without_covered(patterns: frozenset[str]) -> frozenset[str]:
    if len(patterns) < 2:
        return patterns
    if "*" in patterns:
        return frozenset({"*"})
    # Only a pattern with a wildcard covers another. Most general first (fewest literal characters), and a
    # pattern is dropped only for one already kept: two that cover each other keep the first.
    wild = sorted((p for p in patterns if has_wildcard(p)), key=lambda p: (len(p.replace("*", "")), p))
    if not wild:
        return patterns
    kept: list[str] = []
    for pattern in wild:
        if not any(covers(other, pattern) for other in kept):
            kept.append(pattern)
    exact = [p for p in patterns if not has_wildcard(p) and not any(covers(w, p) for w in kept)]
    return frozenset(kept + exact)
