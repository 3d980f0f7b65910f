"""The source-neutral record of one observed AWS API call: what every source produces and the core consumes.

A source (CSM datagrams, a replayed capture, the archive, the HTTPS proxy, OTLP spans) decodes its own
input, drops what must never be kept (keys, tokens, headers, bodies, secret values) and emits one
`ObservedCall` per API call. Everything after that (mapping, aggregation, scoping, rendering, state,
the archive) sees only these records.

A NamedTuple rather than a frozen dataclass: it is just as immutable and typed, and about four times
cheaper to create, which matters on the intake path (one record per call, up to ~100,000 a second).
"""

from __future__ import annotations

import re
from typing import NamedTuple

from ..contract import DENIED_CODES
from .wildcard import literal

# Source kinds
CSM, REPLAY, ARCHIVE, PROXY, OTLP = "csm", "replay", "archive", "proxy", "otlp"
SOURCE_KINDS = (CSM, REPLAY, ARCHIVE, PROXY, OTLP)

# Outcomes: a denied call is also a failed one.
OK, FAILED, DENIED = "ok", "failed", "denied"
OUTCOMES = (OK, FAILED, DENIED)

DEFAULT_WORKLOAD = "default"  # the workload of calls that name none (an empty CSM ClientId)
MAX_MESSAGE = 2_048  # how much of an error message is read for the actions it names

_ACTION_IN_MESSAGE = re.compile(r"perform:? ([a-z0-9-]{2,64}:[A-Za-z0-9]{2,128})")
_RESOURCE_IN_MESSAGE = re.compile(r"on resource:? (arn:[A-Za-z0-9-]+:[^\s\"']{3,1024})")


class ObservedCall(NamedTuple):
    """One API call a workload made, as far as its source could see it. Never holds a secret."""

    workload: str  # who made it: CSM ClientId, proxy user, OTLP service.name, ... (never empty)
    source: str  # one of SOURCE_KINDS
    service: str  # botocore serviceId as the SDK sent it ("S3", "CloudWatch Logs"); the mapping resolves aliases
    operation: str  # the operation's wire name ("ListObjectsV2")
    region: str | None = None  # the region the call was sent to
    account: str | None = None  # the caller's account id, when the source can tell
    outcome: str = OK  # OK, FAILED or DENIED
    error_code: str | None = None  # the service's error code ("AccessDeniedException"), if it failed
    denied_actions: tuple[str, ...] = ()  # actions an AccessDenied message names ("sqs:ListQueues")
    resources: tuple[str, ...] = ()  # ARNs (or partial ARNs) of what the call touched, when the source knows
    # Top-level input members the request set (names, never values); the proxy leaves out a structure that can
    # hold a role but held none, where it triggers nothing else (`sources/proxy/calls.passing_no_role`).
    request_members: frozenset[str] = frozenset()
    time_ms: int | None = None  # when it was made, epoch milliseconds

    @property
    def failed(self) -> bool:
        return self.outcome != OK

    @property
    def denied(self) -> bool:
        return self.outcome == DENIED


def outcome_of(*, failed: bool, error_code: str | None, status: int | None = None) -> str:
    """The outcome of a call from what every source can read: did it fail, its error code, its HTTP status."""
    if status == 403 or (error_code is not None and error_code in DENIED_CODES):
        return DENIED
    return FAILED if failed or (status is not None and status >= 400) else OK


def actions_named_in(message: str | None) -> tuple[str, ...]:
    """The actions an AccessDenied message names: '... is not authorized to perform: sqs:ListQueues ...'.

    Raw names: the core keeps only those the Service Authorization Reference knows."""
    if not message:
        return ()
    return tuple(_ACTION_IN_MESSAGE.findall(message[:MAX_MESSAGE]))


def call_as_dict(call: ObservedCall) -> dict[str, object]:
    """The record as a JSON object without its empty fields (an archive line)."""
    fields: dict[str, object] = {}
    for name, value in zip(ObservedCall._fields, call, strict=True):
        if value is None or (isinstance(value, tuple | frozenset) and not value):
            continue
        fields[name] = sorted(value) if isinstance(value, frozenset) else value
    return fields


def resources_named_in(message: str | None) -> tuple[str, ...]:
    """The resource ARNs an AccessDenied message names: '... on resource: arn:aws:kms:...:key/abc because ...';
    a `*`, `?` or `$` in one is the resource's own character (`wildcard.literal`)."""
    if not message:
        return ()
    return tuple(literal(arn.rstrip(".,;)")) for arn in _RESOURCE_IN_MESSAGE.findall(message[:MAX_MESSAGE]))
