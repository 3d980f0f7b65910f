"""What an AWS response says about its call: the status, the error code, and what an AccessDenied names. Pure.

The error code comes from `x-amzn-ErrorType` (JSON protocols), else a JSON body's `__type`/`code`, else an XML
body's `<Code>`. The message is read only to find the actions and resources an AccessDenied names, and then
dropped: nothing of a body is kept but a code that looks like one and those names.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from typing import Any, NamedTuple

from collector_runtime.core.records import DENIED, actions_named_in, outcome_of, resources_named_in

MAX_ERROR_BODY = 65_536  # bytes of an error body read; larger ones are not parsed
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,127}$")
_XML_CODE = re.compile(rb"<Code>([^<]{1,128})</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]{1,4096})</Message>")


class ResponseInfo(NamedTuple):
    status: int
    outcome: str  # records.OK, FAILED or DENIED
    error_code: str | None
    denied_actions: tuple[str, ...] = ()  # raw action names an AccessDenied message named
    denied_resources: tuple[str, ...] = ()  # ARNs it named
    # A successful JSON response's top-level string members (short ones only): the recorder keeps only the
    # identifiers the operation's output shape declares, then drops them. Never persisted.
    values: dict[str, str] | None = None


def read_response(status: int, headers: Mapping[str, str], body: bytes | None) -> ResponseInfo:
    """`headers` with lower-case names; `body` None when it was streamed (not kept)."""
    if status < 300:
        values = _json_values(headers, body) if body is not None else None
        return ResponseInfo(status, outcome_of(failed=False, error_code=None, status=status), None, values=values)
    document = body if body is not None and len(body) <= MAX_ERROR_BODY else b""
    code, message = _error_of(headers, document)
    outcome = outcome_of(failed=True, error_code=code, status=status)
    if outcome != DENIED:
        return ResponseInfo(status, outcome, code)
    return ResponseInfo(status, outcome, code, actions_named_in(message), resources_named_in(message))


def names_in_body(headers: Mapping[str, str]) -> bool:
    """Whether a successful response's body may name resources the request did not: a small AWS JSON
    document (its length announced). Object data and streams are never read."""
    length = headers.get("content-length", "")
    return is_json(headers) and length.isdigit() and int(length) <= MAX_ERROR_BODY


def is_json(headers: Mapping[str, str]) -> bool:
    content_type = headers.get("content-type", "").lower()
    return content_type.startswith(("application/x-amz-json", "application/json"))


def _json_values(headers: Mapping[str, str], body: bytes) -> dict[str, str] | None:
    if not is_json(headers) or not body or len(body) > MAX_ERROR_BODY or body[:1] != b"{":
        return None
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):  # RecursionError: nested past the parser's depth
        return None
    if not isinstance(document, dict):
        return None
    return {k: v for k, v in document.items() if isinstance(k, str) and isinstance(v, str) and len(v) <= 2_048}


def _error_of(headers: Mapping[str, str], body: bytes) -> tuple[str | None, str | None]:
    header = headers.get("x-amzn-errortype")
    code = _code(header.split(":", 1)[0]) if header else None
    if body[:1] == b"{":
        json_code, message = _json_error(body)
        return code or json_code, message
    found_code, found_message = _XML_CODE.search(body), _XML_MESSAGE.search(body)
    xml_code = _code(found_code.group(1).decode("utf-8", "replace")) if found_code else None
    return code or xml_code, found_message.group(1).decode("utf-8", "replace") if found_message else None


def _json_error(body: bytes) -> tuple[str | None, str | None]:
    try:
        document: Any = json.loads(body)
    except (ValueError, RecursionError):
        return None, None
    if not isinstance(document, dict):
        return None, None
    raw = document.get("__type") or document.get("code") or document.get("Code")
    message = document.get("message") or document.get("Message")
    code = _code(raw.rsplit("#", 1)[-1]) if isinstance(raw, str) else None
    return code, message if isinstance(message, str) else None


def _code(text: str) -> str | None:
    text = text.strip()
    return text if _CODE.match(text) else None
