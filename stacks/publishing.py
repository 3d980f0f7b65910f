"""Where the collector publishes its results, and a managed policy allowing exactly that: objects under its
S3 prefix and parameters under its SSM path. The storage stack owns both namespaces, so it owns the policy;
whichever collector runs attaches it.

The collector reads its publishing settings from `CSM_COLLECTOR_*` environment variables (its flags'
environment equivalents), which both collector variants set from `publishing_environment`.
"""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_iam as iam
from aws_cdk import aws_s3 as s3
from constructs import Construct

from collector_runtime.contract import STATE_FILE, setting_variable

from .nag import acknowledge, nag_ref

PARAMETER_ARN_IN_NAG = "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter"


def publishing_environment(*, bucket_name: str, s3_prefix: str, ssm_prefix: str, region: str) -> dict[str, str]:
    return {
        setting_variable("--s3-bucket"): bucket_name,
        setting_variable("--s3-prefix"): s3_prefix,
        setting_variable("--ssm-prefix"): ssm_prefix,
        setting_variable("--archive"): "true",
        setting_variable("--region"): region,  # boto3 reads AWS_DEFAULT_REGION, not AWS_REGION: say it explicitly
    }


class PublishingPolicy(Construct):
    """`policy`: s3:PutObject under `s3://<bucket>/<s3_prefix>` (and reading back its own state.json),
    ssm:PutParameter under `<policies path>/`, and s3:ListBucket on the bucket: what `HeadBucket` needs, the
    collector's start-up check that the bucket exists and can be reached (outputs/publish_check.py)."""

    def __init__(
        self, scope: Construct, construct_id: str, *, bucket: s3.IBucket, s3_prefix: str, policies_parameter_path: str
    ) -> None:
        super().__init__(scope, construct_id)
        path = policies_parameter_path.strip("/")
        self.policy = iam.ManagedPolicy(
            self,
            "Policy",
            description="csm-collector: publish results under the collector's S3 prefix and SSM path",
            statements=[
                iam.PolicyStatement(
                    sid="WriteResultsUnderPrefix",
                    actions=["s3:PutObject", "s3:AbortMultipartUpload"],
                    resources=[bucket.arn_for_objects(f"{s3_prefix}*")],
                ),
                iam.PolicyStatement(
                    sid="ReadOwnStateAtStart",  # a new Fargate task continues from the published state
                    actions=["s3:GetObject"],
                    resources=[bucket.arn_for_objects(f"{s3_prefix}{STATE_FILE}")],
                ),
                iam.PolicyStatement(
                    sid="CheckBucketAtStart",  # HeadBucket: the collector fails fast when the bucket is missing
                    actions=["s3:ListBucket"],
                    resources=[bucket.bucket_arn],
                ),
                iam.PolicyStatement(
                    sid="WritePolicyParameters",
                    actions=["ssm:PutParameter"],
                    resources=[
                        cdk.Stack.of(self).format_arn(service="ssm", resource="parameter", resource_name=f"{path}/*")
                    ],
                ),
            ],
        )
        acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{nag_ref(bucket, 'Arn')}/{s3_prefix}*]",
            "The collector writes its per-workload policies and their history, policy.json, stats.json, "
            f"state.json and the raw-event archive, all under s3://<results bucket>/{s3_prefix}; the wildcard "
            "is that prefix",
        )
        acknowledge(
            self.policy,
            f"AwsSolutions-IAM5[Resource::{PARAMETER_ARN_IN_NAG}/{path}/*]",
            f"The collector writes one parameter per workload, all under /{path}/; the wildcard is that path",
        )
