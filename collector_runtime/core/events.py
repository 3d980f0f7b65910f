"""CSM datagrams in, validated and redacted events out.

Pure: no sockets, no clock. A datagram is untrusted bytes from the network; anything that is not a
well-formed CSM event is rejected with a reason code and counted by the caller, never raised.
Secrets (`AccessKey`, `SessionToken`) never leave this module: events carry only the fields the
collector uses, and `redacted_record` is the one way to get a storable copy of an event.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, TypeGuard

try:  # orjson is optional: about 3x faster on the hot path, same results.
    import orjson

    _loads: Any = orjson.loads
    _JSON_ERRORS: tuple[type[Exception], ...] = (orjson.JSONDecodeError, ValueError, TypeError)
except ImportError:  # pragma: no cover - exercised where orjson is absent
    _loads = json.loads
    _JSON_ERRORS = (ValueError, TypeError, RecursionError)

API_CALL = "ApiCall"
API_CALL_ATTEMPT = "ApiCallAttempt"
SECRET_FIELDS = frozenset({"AccessKey", "SessionToken"})
MAX_DATAGRAM_BYTES = 65_535
MAX_CLIENT_ID = 255  # the SDKs truncate ClientId to 255 characters
MAX_NAME = 128
MAX_MESSAGE = 2_048
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._-]*$")
_DENIED_CODES = frozenset(
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


@dataclass(frozen=True, slots=True)
class CsmEvent:
    """The fields of one CSM event that the collector uses. Secrets are never stored here."""

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
        return self.exception in _DENIED_CODES or self.status == 403

    def actions_named_in_denial(self) -> list[str]:
        """AccessDenied messages usually name the missing action: '... not authorized to perform: sqs:ListQueues'."""
        if not self.denied or not self.exception_message:
            return []
        return _ACTION_IN_MESSAGE.findall(self.exception_message)


@dataclass(frozen=True, slots=True)
class ParseResult:
    events: list[CsmEvent]
    rejected: list[str]
    records: list[dict[str, Any]]  # raw records of `events`, only when asked for (archive)


def parse_datagram(data: bytes, *, keep_records: bool = False) -> ParseResult:
    """Split a datagram into events (one JSON object per line); reject what is not a CSM event."""
    if len(data) > MAX_DATAGRAM_BYTES:
        return ParseResult([], ["oversized"], [])
    lines = [line for line in data.split(b"\n") if line.strip()] if b"\n" in data else [data]
    if not lines or not lines[0].strip():
        return ParseResult([], ["empty"], [])
    result = ParseResult([], [], [])
    for line in lines:
        record, reason = _decode(line)
        event = None if record is None else _to_event(record)
        if event is None:
            result.rejected.append(reason or "invalid_fields")
            continue
        result.events.append(event)
        if keep_records:
            result.records.append(record)  # type: ignore[arg-type]
    return result


def _decode(line: bytes) -> tuple[dict[str, Any] | None, str | None]:
    try:
        record = _loads(line)
    except _JSON_ERRORS:
        return None, "not_json"
    if not isinstance(record, dict):
        return None, "not_an_object"
    return record, None


def _to_event(record: dict[str, Any]) -> CsmEvent | None:
    kind = record.get("Type")
    if kind not in (API_CALL, API_CALL_ATTEMPT):
        return None
    service = record.get("Service")
    api = record.get("Api")
    client_id = record.get("ClientId", "")
    if not (_is_name(service) and _is_name(api) and isinstance(client_id, str)) or len(client_id) > MAX_CLIENT_ID:
        return None
    final = kind == API_CALL
    return CsmEvent(
        type=kind,
        client_id=client_id,
        service=service,
        api=api,
        timestamp_ms=_int(record.get("Timestamp")),
        region=_short_str(record.get("Region"), 32),
        fqdn=None if final else _short_str(record.get("Fqdn"), 300),
        status=_int(record.get("FinalHttpStatusCode" if final else "HttpStatusCode")),
        exception=_short_str(record.get("FinalAwsException" if final else "AwsException"), MAX_NAME),
        exception_message=_short_str(
            record.get("FinalAwsExceptionMessage" if final else "AwsExceptionMessage"), MAX_MESSAGE
        ),
        sdk_exception=_short_str(record.get("FinalSdkException" if final else "SdkException"), MAX_NAME),
    )


def _is_name(value: Any) -> TypeGuard[str]:
    return isinstance(value, str) and 0 < len(value) <= MAX_NAME and _NAME.match(value) is not None


def _int(value: Any) -> int | None:
    if isinstance(value, bool) or not isinstance(value, int):
        return None
    return value if -(2**63) <= value < 2**63 else None


def _short_str(value: Any, limit: int) -> str | None:
    if not isinstance(value, str) or not value:
        return None
    return value[:limit]


def redacted_record(record: dict[str, Any]) -> dict[str, Any]:
    """A storable copy of a raw event: secrets removed, the access key reduced to its account id."""
    clean = {k: v for k, v in record.items() if k not in SECRET_FIELDS}
    account = account_from_access_key(record.get("AccessKey"))
    if account:
        clean["AccessKeyAccount"] = account
    return clean


def account_from_access_key(access_key: Any) -> str | None:
    """The AWS account id encoded in an AKIA/ASIA access key id (public, documented encoding)."""
    if not isinstance(access_key, str) or len(access_key) != 20 or access_key[:4] not in ("AKIA", "ASIA"):
        return None
    import base64
    import binascii

    try:
        decoded = base64.b32decode(access_key[4:])
    except (binascii.Error, ValueError):
        return None
    account = (int.from_bytes(decoded[:6], "big") & 0x7FFFFFFFFF80) >> 7
    return f"{account:012d}"
