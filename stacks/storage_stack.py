"""Storage: the results bucket, the SSM parameters that say where results go, the policy that lets a
collector publish under its prefix and path, and the cleanup of the parameters it publishes there when this
stack is deleted. Outlives collectors."""

from __future__ import annotations

from typing import Any

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .archive_analytics import ArchiveAnalytics
from .config import Architecture
from .parameter_cleanup import RuntimeParameterCleanup
from .parameters import ParameterDirectory
from .publishing import PublishingPolicy
from .results_bucket import ResultsBucket

ATHENA_RESULTS_PREFIX = "athena-results/"


class StorageStack(cdk.Stack):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        ssm_prefix: str,
        s3_prefix: str,
        archive_prefix: str,
        archive_retention_days: int,
        policies_parameter_path: str,
        athena_database: str,
        athena_workgroup: str,
        architecture: Architecture = Architecture.ARM64,
        **kwargs: Any,
    ) -> None:
        super().__init__(scope, construct_id, description="csm-collector: results bucket and SSM parameters", **kwargs)
        results = ResultsBucket(
            self,
            "Results",
            archive_prefix=archive_prefix,
            archive_retention_days=archive_retention_days,
            athena_results_prefix=ATHENA_RESULTS_PREFIX,
        )
        self.bucket: s3.IBucket = results.bucket
        ArchiveAnalytics(
            self,
            "Analytics",
            bucket=self.bucket,
            archive_prefix=archive_prefix,
            results_prefix=ATHENA_RESULTS_PREFIX,
            database=athena_database,
            workgroup=athena_workgroup,
        )
        self.publishing_policy: iam.IManagedPolicy = PublishingPolicy(
            self,
            "Publishing",
            bucket=self.bucket,
            s3_prefix=s3_prefix,
            policies_parameter_path=policies_parameter_path,
        ).policy
        RuntimeParameterCleanup(self, "RuntimeParameters", path=policies_parameter_path, architecture=architecture)
        ParameterDirectory(
            self,
            "Parameters",
            values={f"{ssm_prefix}/results/bucket": self.bucket.bucket_name, f"{ssm_prefix}/results/prefix": s3_prefix},
            description="csm-collector: where the collector publishes its results",
        )
        cdk.CfnOutput(self, "ResultsBucketName", value=self.bucket.bucket_name)
        cdk.CfnOutput(self, "SsmPrefix", value=ssm_prefix)
        cdk.CfnOutput(
            self,
            "ReportCommand",
            value=f"csm-collector report --athena --database {athena_database} --workgroup {athena_workgroup}",
        )
        cdk.CfnOutput(
            self,
            "ListResultsCommand",
            value=f"aws s3 ls s3://{self.bucket.bucket_name}/{s3_prefix} --recursive",
        )
        cdk.CfnOutput(
            self,
            "ReadPoliciesCommand",
            value=f"aws ssm get-parameters-by-path --path {policies_parameter_path} --recursive",
        )
