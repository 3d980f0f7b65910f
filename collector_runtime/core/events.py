"""CSM datagrams in, validated records and their fields out.

Pure: no sockets, no clock. A datagram is untrusted bytes from the network; anything that is not a
well-formed CSM event is rejected with a reason code and counted by the caller, never raised.

The hot path works on the decoded JSON object ("record") directly: `decode` splits and decodes,
`invalid_reason` validates, and small accessors read the fields the collector uses. Secrets
(`AccessKey`, `SessionToken`) are never read from a record except by `redact`, which is the one way
to make an event storable.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

try:  # orjson is optional: several times faster on the hot path, same results.
    import orjson

    loads: Any = orjson.loads
    JSON_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError, TypeError)
except ImportError:  # pragma: no cover - exercised where orjson is absent
    loads = json.loads
    JSON_ERRORS = (ValueError, TypeError, RecursionError)

Record = dict[str, Any]
API_CALL = "ApiCall"
API_CALL_ATTEMPT = "ApiCallAttempt"
SECRET_FIELDS = frozenset({"AccessKey", "SessionToken"})
MAX_DATAGRAM_BYTES = 65_535
MAX_CLIENT_ID = 255  # the SDKs truncate ClientId to 255 characters
MAX_NAME = 128
MAX_MESSAGE = 2_048
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "UnauthorizedException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "AuthorizationFailure",
        "Forbidden",
        "ForbiddenException",
        "AllAccessDisabled",
    }
)
_ACTION_IN_MESSAGE = re.compile(r"perform:? ([a-z0-9-]{2,64}:[A-Za-z0-9]{2,128})")


def decode(data: bytes) -> tuple[list[Record], list[str]]:
    """Split a datagram into JSON objects (one per line); returns them and the reasons for the rest."""
    if len(data) > MAX_DATAGRAM_BYTES:
        return [], ["oversized"]
    lines = [line for line in data.split(b"\n") if line.strip()] if b"\n" in data else [data]
    if not lines or not lines[0].strip():
        return [], ["empty"]
    records: list[Record] = []
    rejected: list[str] = []
    for line in lines:
        try:
            record = loads(line)
        except JSON_ERRORS:
            rejected.append("not_json")
            continue
        if isinstance(record, dict):
            records.append(record)
        else:
            rejected.append("not_an_object")
    return records, rejected


def invalid_reason(record: Record) -> str | None:
    """None for a well-formed ApiCall/ApiCallAttempt record, else the reason to reject it."""
    if record.get("Type") not in (API_CALL, API_CALL_ATTEMPT):
        return "invalid_fields"
    client_id = record.get("ClientId", "")
    if not (is_name(record.get("Service")) and is_name(record.get("Api"))):
        return "invalid_fields"
    if not isinstance(client_id, str) or len(client_id) > MAX_CLIENT_ID:
        return "invalid_fields"
    return None


def is_name(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME and _NAME.match(value) is not None


def integer(value: Any) -> int | None:
    if type(value) is not int:  # bool is an int subclass: not a status or a timestamp
        return None
    return value if -(2**63) <= value < 2**63 else None


def short_str(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def call_outcome(record: Record) -> tuple[bool, bool]:
    """(failed, denied) of an ApiCall record, from its final status and exception."""
    status = integer(record.get("FinalHttpStatusCode"))
    exception = record.get("FinalAwsException")
    failed = bool(exception or record.get("FinalSdkException") or (status is not None and status >= 400))
    denied = status == 403 or (isinstance(exception, str) and exception in DENIED_CODES)
    return failed, denied


def denial_actions(record: Record) -> list[str]:
    """The actions an AccessDenied message names: '... not authorized to perform: sqs:ListQueues ...'."""
    message = short_str(record.get("FinalAwsExceptionMessage"), MAX_MESSAGE)
    return _ACTION_IN_MESSAGE.findall(message) if message else []


@dataclass(frozen=True, slots=True)
class CsmEvent:
    """A validated event's fields, for callers that want a typed view. Never holds a secret."""

    type: str
    client_id: str
    service: str
    api: str
    timestamp_ms: int | None
    region: str | None
    fqdn: str | None
    status: int | None
    exception: str | None
    exception_message: str | None
    sdk_exception: str | None

    @property
    def failed(self) -> bool:
        return bool(self.exception or self.sdk_exception or (self.status is not None and self.status >= 400))

    @property
    def denied(self) -> bool:
        return self.exception in DENIED_CODES or self.status == 403

    def actions_named_in_denial(self) -> list[str]:
        if not self.denied or not self.exception_message:
            return []
        return _ACTION_IN_MESSAGE.findall(self.exception_message)


def event_from_record(record: Record) -> CsmEvent:
    """The typed view of a record that `invalid_reason` accepted."""
    final = record["Type"] == API_CALL
    prefix = "Final" if final else ""
    return CsmEvent(
        type=record["Type"],
        client_id=record.get("ClientId", ""),
        service=record["Service"],
        api=record["Api"],
        timestamp_ms=integer(record.get("Timestamp")),
        region=short_str(record.get("Region"), 32),
        fqdn=None if final else short_str(record.get("Fqdn"), 300),
        status=integer(record.get(f"{prefix}HttpStatusCode")),
        exception=short_str(record.get(f"{prefix}AwsException"), MAX_NAME),
        exception_message=short_str(record.get(f"{prefix}AwsExceptionMessage"), MAX_MESSAGE),
        sdk_exception=short_str(record.get(f"{prefix}SdkException"), MAX_NAME),
    )


@dataclass(frozen=True, slots=True)
class ParseResult:
    events: list[CsmEvent]
    rejected: list[str]
    records: list[Record]  # raw records of `events`, only when asked for


def parse_datagram(data: bytes, *, keep_records: bool = False) -> ParseResult:
    """Decode and validate a datagram: its events, and a reason for each part that is not one."""
    records, rejected = decode(data)
    result = ParseResult([], rejected, [])
    for record in records:
        reason = invalid_reason(record)
        if reason:
            rejected.append(reason)
            continue
        result.events.append(event_from_record(record))
        if keep_records:
            result.records.append(record)
    return result


def redact(record: Record, account_of: Callable[[str], str | None] | None = None) -> Record:
    """Make a decoded event storable, in place: the secrets removed, the access key reduced to the
    account id it encodes (`account_of` may be a cached version of `account_from_access_key`)."""
    access_key = record.get("AccessKey")
    for name in SECRET_FIELDS:
        record.pop(name, None)
    if isinstance(access_key, str):
        account = (account_of or account_from_access_key)(access_key)
        if account:
            record["AccessKeyAccount"] = account
    return record


def account_from_access_key(access_key: Any) -> str | None:
    """The AWS account id encoded in an AKIA/ASIA access key id (public, documented encoding)."""
    if not isinstance(access_key, str) or len(access_key) != 20 or access_key[:4] not in ("AKIA", "ASIA"):
        return None
    try:
        decoded = base64.b32decode(access_key[4:])
    except (binascii.Error, ValueError):
        return None
    account = (int.from_bytes(decoded[:6], "big") & 0x7FFFFFFFFF80) >> 7
    return f"{account:012d}"
