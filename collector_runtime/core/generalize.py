"""Generalization: a workload's observed resource names -> the narrowest IAM patterns its next run also
matches, each with the evidence it came from. Pure (no clock, no I/O).

It runs on all of a workload's granted resources at once, between scoping and the policy document
(`PolicyBuilder.grants`); every output writes what it decided. `state.json` keeps the exact names, so
`--exact-names` (no generalization) can be turned on or off at any later render.

Rules, in order; `?` stands for a fixed number of characters, `*` for any other run (both as IAM reads
them). A name with none of these shapes is granted exactly: no rule fires without evidence.

- Secrets Manager secret ARN: `secret:acme/db-AbCdEf` -> `secret:acme/db-??????`. Secrets Manager appends `-`
  and 6 random characters; AWS recommends `-??????` (`acme/db*` would also match `acme/db2`).
- Step Functions execution: `execution:acme-flow:<uuid>` -> `execution:acme-flow:*` (a name per run).
- DynamoDB stream: `table/orders/stream/2026-12-06T20:07:19.959` -> `table/orders/stream/*` (the label is
  the stream's creation time).
- Lambda version: `function:acme-worker:7` -> `function:acme-worker:*` (a number per deployment).
- ECS task definition revision: `task-definition/web:3` -> `task-definition/web:*` (a number per registration).
- Terraform generated name (no name, or `name_prefix`/`bucket_prefix`): `terraform-20261206200719959000000001`
  -> `terraform-` and 26 `?` (plugin SDK `id.PrefixedUniqueId`: the time to 1/10,000 s and an 8-hex-digit
  counter; `UniqueIDSuffixLength` = 26).
- CloudFormation / CDK physical name: `appstack-artifactsbucket-1a2b3c4d5e6f` -> `appstack-artifactsbucket-*`
  (`<stack>-<logical id>-<12-13 random characters>`, CloudFormation "Name type"; CDK's logical ids such as
  `UploadsBucketF68F3FF0` are stable and kept).
- S3 object key, log stream name: `reports/2026/12/06/<uuid>.csv` -> `reports/*`,
  `exports/export-1733512345.json` -> `exports/export-*`: cut at the first segment holding a date, a
  timestamp, a UUID, a long hexadecimal hash or a number, keeping that segment's literal start.

A bucket, table, queue, key or role whose whole name is random (a KMS key id) is never generalized:
only a generated part after a stable stem is. Names that become the same pattern merge into it.
A name's literal forms (`${*}` for a `*` in an S3 key: wildcard.literal) stay whole: the rules cut and
match only at digits, letters, `-`, `/` and `:`, never inside one.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from .wildcard import has_wildcard

SECRET_SUFFIX = "-??????"
TERRAFORM_SUFFIX = "?" * 26
MAX_EXAMPLES = 3

_SECRET = re.compile(r"^(secret:[^:]+)-[A-Za-z0-9]{6}$")
_EXECUTION = re.compile(r"^((?:execution|express):[^:]+:)[^:]+$")
_STREAM = re.compile(r"^(table/[^/]+/stream/).+$")
_VERSION = re.compile(r"^(function:[^:]+:)\d+$")
_REVISION = re.compile(r"^(task-definition/[^:/]+:)\d+$")
_LOG_STREAM = re.compile(r"^(log-group:[^:]+:log-stream:)(.+)$")
_TERRAFORM = re.compile(r"^(?P<stem>[A-Za-z0-9._/-]*[A-Za-z0-9._/-])(?P<id>20\d{16}[0-9a-f]{8})$")
_CLOUDFORMATION = re.compile(r"^(?P<stem>[A-Za-z0-9][A-Za-z0-9.]*(?:-[A-Za-z0-9.]+)+-)(?P<id>[A-Za-z0-9]{12,13})$")
_NOT_HEX = re.compile(r"[g-zG-Z]")  # a stack or logical id has a letter; a UUID or key id has none
# Volatile runs inside an S3 key's or a log stream's segment: a UUID, a date (2026-12-06, 20261206), a long
# hexadecimal hash, a long number (an epoch), or a segment that is a number (a year, a day, a counter).
_VOLATILE = re.compile(
    r"[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}"
    r"|(?:19|20)\d\d-?(?:0[1-9]|1[0-2])-?(?:0[1-9]|[12]\d|3[01])"
    r"|[0-9a-fA-F]{16,}"
    r"|\d{9,}"
    r"|^\d+$"
)


@dataclass(frozen=True, slots=True)
class Generalization:
    """One pattern the policy grants instead of the observed names it covers."""

    pattern: str
    rules: tuple[str, ...]  # why: the schemes recognised
    examples: tuple[str, ...]  # the first few observed names it covers (sorted)
    count: int  # how many observed names it covers

    def as_dict(self) -> dict[str, object]:
        return {"pattern": self.pattern, "why": list(self.rules), "examples": list(self.examples), "from": self.count}


@dataclass(frozen=True)
class Decision:
    """What generalization decided for a set of names: each generalized name's pattern, with the evidence."""

    patterns: dict[str, str] = field(default_factory=dict)  # observed name -> pattern (only the changed)
    generalizations: tuple[Generalization, ...] = ()

    def apply(self, names: frozenset[str]) -> frozenset[str]:
        """The names with each generalized one replaced by its pattern."""
        return frozenset(self.patterns.get(name, name) for name in names)


def decide(names: Iterable[str]) -> Decision:
    """Generalize every name of a workload at once; names that become one pattern merge into it."""
    patterns: dict[str, str] = {}
    groups: dict[str, tuple[set[str], list[str]]] = {}  # pattern -> (rules, observed names)
    for name in set(names):
        found = generalized(name)
        if found is None:
            continue
        pattern, rules = found
        patterns[name] = pattern
        group = groups.setdefault(pattern, (set(), []))
        group[0].update(rules)
        group[1].append(name)
    decided = tuple(
        Generalization(pattern, tuple(sorted(rules)), tuple(sorted(seen)[:MAX_EXAMPLES]), len(seen))
        for pattern, (rules, seen) in sorted(groups.items())
    )
    return Decision(patterns, decided)


@functools.lru_cache(maxsize=65536)
def generalized(arn: str) -> tuple[str, tuple[str, ...]] | None:
    """The pattern an ARN's next run also matches, and the rules that made it; None: keep it exact (no
    volatile part, or already a pattern)."""
    parts = arn.split(":", 5)
    if len(parts) != 6 or parts[0] != "arn" or has_wildcard(parts[5]):  # a `*` account or region is no pattern
        return None
    head, service, resource = ":".join(parts[:5]) + ":", parts[2], parts[5]
    rules: list[str] = []
    if service == "s3":
        bucket, slash, key = resource.partition("/")
        resource = _name(bucket, rules) + slash + (_key(key, "S3 object key", rules) if key else "")
    else:
        resource = _resource(resource, rules)
    return (head + resource, tuple(rules)) if rules else None


def _resource(resource: str, rules: list[str]) -> str:
    """Positional schemes first (what follows a stable name there is per run), then each name's own shape."""
    for pattern, rule in (
        (_SECRET, "Secrets Manager's random 6-character suffix"),
        (_EXECUTION, "Step Functions execution names are per run"),
        (_STREAM, "a DynamoDB stream label is its creation time"),
        (_VERSION, "Lambda versions grow with each deployment"),
        (_REVISION, "ECS task definition revisions grow with each registration"),
    ):
        match = pattern.match(resource)
        if match:
            rules.append(rule)
            stem = _names(match.group(1), rules)
            return stem + (SECRET_SUFFIX if pattern is _SECRET else "*")
    match = _LOG_STREAM.match(resource)
    if match:
        return _names(match.group(1), rules) + _key(match.group(2), "log stream name", rules)
    return _names(resource, rules)


def _names(text: str, rules: list[str]) -> str:
    """Each `/`- or `:`-separated name in `text`, with a generated suffix replaced."""
    return "".join(_name(piece, rules) for piece in re.split(r"([/:])", text))


def _name(name: str, rules: list[str]) -> str:
    """One resource name: a Terraform or CloudFormation generated suffix after a stable stem becomes a wildcard."""
    match = _TERRAFORM.match(name)
    if match:
        rules.append("Terraform's 26-character generated suffix")
        return match.group("stem") + TERRAFORM_SUFFIX
    match = _CLOUDFORMATION.match(name)
    if match and _random_looking(match.group("id")) and _NOT_HEX.search(match.group("stem")):
        rules.append("CloudFormation's random 12-13 character suffix")
        return match.group("stem") + "*"
    return name


def _random_looking(suffix: str) -> bool:
    """CloudFormation's suffixes mix digits and letters (upper case, lower case for S3, mixed for some);
    an all-lower-case word without a digit is taken as part of the name."""
    has_digit = any(c.isdigit() for c in suffix)
    return has_digit or suffix.isupper() or (not suffix.islower() and not suffix.isupper())


def _key(key: str, what: str, rules: list[str]) -> str:
    """A path cut at its first volatile segment, keeping that segment's literal start: `reports/2026/...`
    -> `reports/*`, `exports/export-1733512345.json` -> `exports/export-*`."""
    position = 0
    for segment in key.split("/"):
        match = _VOLATILE.search(segment)
        if match:
            rules.append(f"{what}: dates, timestamps, UUIDs, hashes and numbers vary per run")
            return key[: position + match.start()] + "*"
        position += len(segment) + 1
    return key
