"""Who is behind an access key, learned from the STS responses the proxy relays. Pure, in memory only.

A GetCallerIdentity response names its signer (account and ARN); an AssumeRole* response names the session
whose key it issues. Each is remembered by `credentials.key_hash` of the key id (never the key, never
written), so that the key's calls get the account (for key ids that encode none) and one workload per
principal: an assumed-role session is named by its role (`123456789012-role-app-role`), whatever key and
session name it has, so hourly credential rotation stays one workload.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from collector_runtime.core.arns import ACCOUNT_ID
from collector_runtime.core.names import MAX_WORKLOAD
from collector_runtime.sources.proxy.responses import CallerInfo

MAX_KEYS = 50_000  # keys remembered; cleared when full (new evidence comes with the next STS response)
_PRINCIPAL_ARN = re.compile(rf"^arn:aws[a-z-]*:(?:sts|iam)::({ACCOUNT_ID}):([a-z-]+)(?:/(.+))?$")
_SAFE = re.compile(r"[^A-Za-z0-9+=,.@_-]")


class Principal(NamedTuple):
    account: str | None
    name: str | None  # the workload name for its calls (None: the ARN named no principal known here)


def principal_name(arn: str | None) -> str | None:
    """`arn:aws:sts::123456789012:assumed-role/app-role/run-1` -> `123456789012-role-app-role`; an IAM
    user `...:user/path/ci` -> `123456789012-user-ci`; `...:root` -> `123456789012-root`."""
    match = _PRINCIPAL_ARN.match(arn or "")
    if match is None:
        return None
    account, kind, rest = match.groups()
    if kind == "root":
        return f"{account}-root"
    if not rest:
        return None
    if kind == "assumed-role":
        kind, name = "role", rest.split("/", 1)[0]  # the role; the session name changes with every run
    else:
        name = rest.rsplit("/", 1)[-1]  # users, roles, federated users: the name without its path
    return _SAFE.sub("_", f"{account}-{kind}-{name}")[:MAX_WORKLOAD]


class Principals:
    def __init__(self) -> None:
        self._known: dict[str, Principal] = {}

    def learn(self, signer: str | None, caller: CallerInfo) -> None:
        """What an STS response says: about the key it issued, else about its signer (`signer`: key hash)."""
        key = caller.issued_key or signer
        if key is None:
            return
        if len(self._known) >= MAX_KEYS:
            self._known.clear()
        self._known[key] = Principal(caller.account, principal_name(caller.arn))

    def of(self, key: str | None) -> Principal | None:
        return self._known.get(key) if key else None
