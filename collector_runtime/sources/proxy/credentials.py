"""The SigV4 credential scope of a request: who signed it for which service and region. Pure.

`Authorization: AWS4-HMAC-SHA256 Credential=AKID/20260101/eu-west-1/s3/aws4_request, SignedHeaders=...`, its
SigV4a form (`AWS4-ECDSA-P256-SHA256 Credential=AKID/20260101/s3/aws4_request`, region set in
`X-Amz-Region-Set`) and presigned URLs (`X-Amz-Credential=...`) all carry it. The access key id is read
only to derive the account it encodes and a short hash of it (`principal`), and is never returned.
"""

from __future__ import annotations

import hashlib
import re
from typing import NamedTuple

from collector_runtime.core.accounts import account_from_access_key
from collector_runtime.sources.proxy.request import HttpRequest

_CREDENTIAL = re.compile(r"Credential=([^,\s]+)")
TEMPORARY = "temporary-credentials"


class CredentialScope(NamedTuple):
    signing_name: str  # the service the request was signed for ("s3", "dynamodb", "execute-api")
    region: str | None  # None for SigV4a with a wildcard or multi-region set
    account: str | None  # the account the access key id encodes, when it does


def credential_scope(request: HttpRequest) -> CredentialScope | None:
    """The scope from the Authorization header, else from a presigned query; None for unsigned requests
    (and for SigV2 or bearer tokens, which carry no scope)."""
    credential = _credential_from_header(request.header("authorization")) or _credential_from_query(request)
    if credential is None:
        return None
    return _parse_credential(credential, request.header("x-amz-region-set"))


def sigv2_account(request: HttpRequest) -> str | None:
    """The account of a SigV2-signed request (`Authorization: AWS AKID:signature`, or a presigned URL's
    `AWSAccessKeyId=`, as botocore presigns S3 URLs by default): SigV2 carries no scope, only the key id."""
    authorization = request.header("authorization") or ""
    if authorization.startswith("AWS ") and ":" in authorization:
        return account_from_access_key(authorization[4:].split(":", 1)[0].strip())
    if "AWSAccessKeyId=" in request.query:
        for name, value in request.query_pairs():
            if name == "AWSAccessKeyId":
                return account_from_access_key(value)
    return None


def principal(request: HttpRequest) -> str | None:
    """A stable name for whoever signed the request, without the key (see `name_of_key`); None if unsigned."""
    key_id = access_key_id(request)
    return name_of_key(key_id) if key_id else None


def name_of_key(key_id: str) -> str:
    """A long-term key: its account (when the key id encodes one) and the first 8 hex digits of the key id's
    SHA-256 (`609629065308-1a2b3c4d`). A temporary (ASIA) key changes every hour or so: its account alone
    (`609629065308-temporary-credentials`), so that rotation does not start a new workload."""
    account = account_from_access_key(key_id)
    if key_id.startswith("ASIA"):
        return f"{account}-{TEMPORARY}" if account else TEMPORARY
    return f"{account or 'key'}-{key_hash(key_id)[:8]}"


def key_hash(key_id: str) -> str:
    """What stands for a key id in memory (never the key itself): its SHA-256, hex."""
    return hashlib.sha256(key_id.encode("utf-8", "replace")).hexdigest()


def access_key_id(request: HttpRequest) -> str | None:
    """The signing key id (transient: callers reduce it to an account or `key_hash` at once)."""
    credential = _credential_from_header(request.header("authorization")) or _credential_from_query(request)
    if credential is not None:
        return credential.split("/", 1)[0]
    authorization = request.header("authorization") or ""
    if authorization.startswith("AWS ") and ":" in authorization:
        return authorization[4:].split(":", 1)[0].strip()
    for name, value in request.query_pairs() if "AWSAccessKeyId=" in request.query else ():
        if name == "AWSAccessKeyId":
            return value
    return None


def _credential_from_header(authorization: str | None) -> str | None:
    if not authorization or not authorization.startswith("AWS4-"):
        return None
    match = _CREDENTIAL.search(authorization)
    return match.group(1) if match else None


def _credential_from_query(request: HttpRequest) -> str | None:
    if "x-amz-credential" not in request.query.lower():
        return None
    for name, value in request.query_pairs():
        if name.lower() == "x-amz-credential":
            return value
    return None


def _parse_credential(credential: str, region_set: str | None) -> CredentialScope | None:
    parts = credential.split("/")
    if len(parts) == 5 and parts[4] == "aws4_request":  # key/date/region/service/aws4_request
        key_id, _date, region, service, _ = parts
        return CredentialScope(service, region or None, account_from_access_key(key_id))
    if len(parts) == 4 and parts[3] == "aws4_request":  # SigV4a: key/date/service/aws4_request
        key_id, _date, service, _ = parts
        return CredentialScope(service, _single_region(region_set), account_from_access_key(key_id))
    return None


def _single_region(region_set: str | None) -> str | None:
    regions = [r.strip() for r in (region_set or "").split(",") if r.strip()]
    return regions[0] if len(regions) == 1 and "*" not in regions[0] else None
