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

from collector_runtime.core.arns import account_of_arn
from collector_runtime.core.records import DENIED, actions_named_in, outcome_of, resources_named_in
from collector_runtime.sources.proxy.credentials import key_hash
from collector_runtime.sources.proxy.request import is_json

MAX_ERROR_BODY = 65_536  # bytes of an error body read; larger ones are not parsed
_CODE = re.compile(r"^[A-Za-z][A-Za-z0-9._-]{0,127}$")
_XML_CODE = re.compile(rb"<Code>([^<]{1,128})</Code>")
_XML_MESSAGE = re.compile(rb"<Message>([^<]{1,4096})</Message>")
# STS's Query-protocol responses that say who a key belongs to (GetCallerIdentity: the signer; AssumeRole*:
# the session whose key the response issues). Only these values are read; the body is then dropped.
_STS_RESULT = re.compile(rb"<(GetCallerIdentityResult|AssumeRoleResult|AssumeRoleWith(?:WebIdentity|SAML)Result)>")
_XML_ARN = re.compile(rb"<Arn>(arn:aws[a-z-]*:(?:sts|iam)::\d{12}:[A-Za-z0-9+=,.@_/-]{1,512})</Arn>")
_XML_ACCOUNT = re.compile(rb"<Account>(\d{12})</Account>")
_XML_ISSUED_KEY = re.compile(rb"<AccessKeyId>([A-Z0-9]{16,128})</AccessKeyId>")


class CallerInfo(NamedTuple):
    """Who an STS response names: the caller (GetCallerIdentity) or the session it issued a key for."""

    arn: str | None  # arn:aws:sts::123456789012:assumed-role/app-role/session, arn:aws:iam::...:user/ci
    account: str | None
    issued_key: str | None  # credentials.key_hash of the access key id an AssumeRole* issued; never the key


class ResponseInfo(NamedTuple):
    status: int
    outcome: str  # records.OK, FAILED or DENIED
    error_code: str | None
    denied_actions: tuple[str, ...] = ()  # raw action names an AccessDenied message named
    denied_resources: tuple[str, ...] = ()  # ARNs it named
    # A successful JSON response's top-level string members (short ones only): the recorder keeps only the
    # identifiers the operation's output shape declares, then drops them. Never persisted.
    values: dict[str, str] | None = None
    caller: CallerInfo | None = None  # an STS response's principal (see CallerInfo)


def read_response(status: int, headers: Mapping[str, str], body: bytes | None) -> ResponseInfo:
    """`headers` with lower-case names; `body` None when it was streamed (not kept)."""
    if status < 300:
        values = _json_values(headers, body) if body is not None else None
        caller = caller_in(body) if body is not None and not values else None
        outcome = outcome_of(failed=False, error_code=None, status=status)
        return ResponseInfo(status, outcome, None, values=values, caller=caller)
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


def names_caller(host: str, headers: Mapping[str, str]) -> bool:
    """Whether a successful response may name the caller: an STS response in XML (the Query protocol)."""
    content_type = headers.get("content-type", "").lower()
    return host.startswith(("sts.", "sts-fips.")) and content_type.startswith(("text/xml", "application/xml"))


def caller_in(body: bytes) -> CallerInfo | None:
    """The principal a GetCallerIdentity or AssumeRole* response names (see CallerInfo)."""
    if len(body) > MAX_ERROR_BODY or body.lstrip()[:1] != b"<":
        return None
    result = _STS_RESULT.search(body)
    if result is None:
        return None
    arn_found = _XML_ARN.search(body)
    arn = arn_found.group(1).decode() if arn_found else None
    account_found = _XML_ACCOUNT.search(body)
    account = account_found.group(1).decode() if account_found else None
    if account is None and arn is not None:
        account = account_of_arn(arn)
    issued = _XML_ISSUED_KEY.search(body) if result.group(1) != b"GetCallerIdentityResult" else None
    if issued is None and result.group(1) != b"GetCallerIdentityResult":
        return None  # a session without its key: nothing to remember it by
    return CallerInfo(arn, account, key_hash(issued.group(1).decode()) if issued else None)


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
