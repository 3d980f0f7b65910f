"""What a CSM event tells beyond its identity: the account an attempt's access key id encodes, the S3 bucket
its host names, and a failed call's outcome. Pure; the caches are bounded (cleared when full, nothing lost)."""

from __future__ import annotations

from typing import Any

from ...core.accounts import account_from_access_key
from ...core.records import DENIED, MAX_MESSAGE, actions_named_in, outcome_of, resources_named_in
from ...core.s3_buckets import bucket_arn, bucket_from_fqdn, names_some_bucket
from .events import MAX_NAME, integer, short_str
from .fields import CsmEvent

MAX_CACHED = 50_000  # access keys and host names remembered
NO_DENIALS: tuple[str, ...] = ()
NO_RESOURCES: tuple[str, ...] = ()
Failure = tuple[str, str | None, tuple[str, ...], tuple[str, ...]]  # outcome, error code, denied actions, named


class AttemptFacts:
    def __init__(self) -> None:
        self.accounts: dict[str, str | None] = {}  # access key id -> account (in memory only, never written)
        self._buckets: dict[tuple[str, str | None], tuple[str, ...]] = {}  # (Fqdn, Region) -> bucket ARN

    def account(self, access_key: Any) -> str | None:
        """The account an access key id encodes."""
        try:
            return self.accounts[access_key]
        except (KeyError, TypeError):
            if type(access_key) is not str:
                return None
        if len(self.accounts) >= MAX_CACHED:
            self.accounts.clear()
        account = self.accounts[access_key] = account_from_access_key(access_key)
        return account

    def bucket(self, fqdn: Any, region: Any) -> tuple[str, ...]:
        """The bucket of an S3 virtual-hosted request, from the attempt's host name (path-style: any bucket)."""
        key = (fqdn, region)
        try:
            return self._buckets[key]
        except (KeyError, TypeError):
            if type(fqdn) is not str:
                return NO_RESOURCES
        region = region if type(region) is str else None
        bucket = bucket_from_fqdn(fqdn[:300])
        if bucket is None and names_some_bucket(fqdn):
            bucket = "*"  # path-style: some bucket, which one unknown (counted as unscoped)
        if len(self._buckets) >= MAX_CACHED:
            self._buckets.clear()
        known = self._buckets[(fqdn, region)] = (bucket_arn(bucket, region),) if bucket else NO_RESOURCES
        return known


def failure(event: CsmEvent) -> Failure:
    """A call that did not succeed: outcome, error code, and for a denial the actions and resources its
    message names."""
    error_code = short_str(event.FinalAwsException, MAX_NAME)
    failed = bool(error_code or event.FinalSdkException)
    outcome = outcome_of(failed=failed, error_code=error_code, status=integer(event.FinalHttpStatusCode))
    if outcome != DENIED:
        return outcome, error_code, NO_DENIALS, NO_RESOURCES
    message = short_str(event.FinalAwsExceptionMessage, MAX_MESSAGE)
    return outcome, error_code, actions_named_in(message), resources_named_in(message)
