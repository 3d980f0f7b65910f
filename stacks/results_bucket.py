"""The results bucket (encrypted, private, TLS-only, versioned, raw archives expiring) and the bucket
that receives its server access logs."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .nag import acknowledge

NONCURRENT_VERSION_DAYS = 30
ATHENA_RESULT_DAYS = 30
ACCESS_LOG_DAYS = 90
INCOMPLETE_UPLOAD_DAYS = 7
ACCESS_LOG_PREFIX = "results-bucket/"


class ResultsBucket(Construct):
    """`bucket` holds what the collector publishes; `access_logs` holds S3 server access logs for it.

    Both are retained when the stack is destroyed: they hold your results and their audit trail.
    """

    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        archive_prefix: str,
        archive_retention_days: int,
        athena_results_prefix: str,
    ) -> None:
        super().__init__(scope, construct_id)
        self.access_logs = self._access_log_bucket()
        self.bucket = s3.Bucket(
            self,
            "Bucket",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            versioned=True,
            server_access_logs_bucket=self.access_logs,
            server_access_logs_prefix=ACCESS_LOG_PREFIX,
            lifecycle_rules=results_lifecycle(archive_prefix, archive_retention_days, athena_results_prefix),
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )

    def _access_log_bucket(self) -> s3.Bucket:
        bucket = s3.Bucket(
            self,
            "AccessLogs",
            encryption=s3.BucketEncryption.S3_MANAGED,
            block_public_access=s3.BlockPublicAccess.BLOCK_ALL,
            object_ownership=s3.ObjectOwnership.BUCKET_OWNER_ENFORCED,
            enforce_ssl=True,
            minimum_tls_version=1.2,
            lifecycle_rules=[s3.LifecycleRule(id="expire-access-logs", expiration=cdk.Duration.days(ACCESS_LOG_DAYS))],
            removal_policy=cdk.RemovalPolicy.RETAIN,
        )
        acknowledge(
            bucket,
            "AwsSolutions-S1",
            "This is the access-log bucket of the results bucket; logging it into itself would loop",
        )
        return bucket


def results_lifecycle(
    archive_prefix: str, archive_retention_days: int, athena_results_prefix: str
) -> list[s3.LifecycleRule]:
    return [
        s3.LifecycleRule(
            id="expire-athena-results",
            prefix=athena_results_prefix,
            expiration=cdk.Duration.days(ATHENA_RESULT_DAYS),
        ),
        s3.LifecycleRule(
            id="expire-raw-archives",
            prefix=archive_prefix,
            expiration=cdk.Duration.days(archive_retention_days),
        ),
        s3.LifecycleRule(
            id="expire-noncurrent-versions",
            noncurrent_version_expiration=cdk.Duration.days(NONCURRENT_VERSION_DAYS),
            abort_incomplete_multipart_upload_after=cdk.Duration.days(INCOMPLETE_UPLOAD_DAYS),
        ),
    ]
