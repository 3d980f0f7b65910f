from __future__ import annotations

import pytest

from collector_runtime.core.mapping import ActionMap

# Pairs whose answer is documented in the service's API reference or the IAM user guide.
KNOWN = [
    ("S3", "ListBuckets", ["s3:ListAllMyBuckets"]),
    ("S3", "ListObjectsV2", ["s3:ListBucket"]),
    ("S3", "ListObjects", ["s3:ListBucket"]),
    ("S3", "HeadBucket", ["s3:ListBucket"]),
    ("S3", "HeadObject", ["s3:GetObject"]),
    ("S3", "GetObject", ["s3:GetObject"]),
    ("S3", "PutObject", ["s3:PutObject"]),
    ("S3", "CreateMultipartUpload", ["s3:PutObject"]),
    ("S3", "UploadPart", ["s3:PutObject"]),
    ("S3", "CompleteMultipartUpload", ["s3:PutObject"]),
    ("S3", "AbortMultipartUpload", ["s3:AbortMultipartUpload"]),
    ("S3", "ListParts", ["s3:ListMultipartUploadParts"]),
    ("S3", "CopyObject", ["s3:GetObject", "s3:PutObject"]),
    ("S3", "DeleteObjects", ["s3:DeleteObject"]),
    ("S3", "GetBucketLocation", ["s3:GetBucketLocation"]),
    ("S3", "GetBucketEncryption", ["s3:GetEncryptionConfiguration"]),
    ("S3", "DeleteBucketCors", ["s3:PutBucketCORS"]),
    ("S3", "GetPublicAccessBlock", ["s3:GetBucketPublicAccessBlock"]),
    ("S3 Control", "GetPublicAccessBlock", ["s3:GetAccountPublicAccessBlock"]),
    ("Lambda", "Invoke", ["lambda:InvokeFunction"]),
    ("Lambda", "InvokeWithResponseStream", ["lambda:InvokeFunction"]),
    ("Lambda", "GetFunction", ["lambda:GetFunction"]),
    ("API Gateway", "GetRestApis", ["apigateway:GET"]),
    ("API Gateway", "CreateRestApi", ["apigateway:POST"]),
    ("API Gateway", "UpdateStage", ["apigateway:PATCH"]),
    ("API Gateway", "DeleteRestApi", ["apigateway:DELETE"]),
    ("ApiGatewayV2", "GetApis", ["apigateway:GET"]),
    ("ApiGatewayManagementApi", "PostToConnection", ["execute-api:ManageConnections"]),
    (
        "DynamoDB",
        "ExecuteStatement",
        ["dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert", "dynamodb:PartiQLSelect", "dynamodb:PartiQLUpdate"],
    ),
    ("DynamoDB", "BatchWriteItem", ["dynamodb:BatchWriteItem"]),
    ("DynamoDB", "TransactGetItems", ["dynamodb:GetItem"]),
    ("DynamoDB", "Query", ["dynamodb:Query"]),
    ("SQS", "SendMessageBatch", ["sqs:SendMessage"]),
    ("SQS", "DeleteMessageBatch", ["sqs:DeleteMessage"]),
    ("SQS", "ChangeMessageVisibilityBatch", ["sqs:ChangeMessageVisibility"]),
    ("SNS", "PublishBatch", ["sns:Publish"]),
    ("CloudFront", "ListDistributions2020_05_31", ["cloudfront:ListDistributions"]),
    ("CloudFront", "CreateInvalidation2020_05_31", ["cloudfront:CreateInvalidation"]),
    ("CloudWatch", "PutMetricData", ["cloudwatch:PutMetricData"]),
    ("CloudWatch Logs", "PutLogEvents", ["logs:PutLogEvents"]),
    ("CloudWatch Logs", "DescribeLogGroups", ["logs:DescribeLogGroups"]),
    ("SFN", "StartExecution", ["states:StartExecution"]),
    ("Elastic Load Balancing v2", "DescribeLoadBalancers", ["elasticloadbalancing:DescribeLoadBalancers"]),
    ("Resource Groups Tagging API", "GetResources", ["tag:GetResources"]),
    ("IoT Data Plane", "Publish", ["iot:Publish"]),
    ("Secrets Manager", "GetSecretValue", ["secretsmanager:GetSecretValue"]),
    ("SSM", "GetParametersByPath", ["ssm:GetParametersByPath"]),
    ("KMS", "ReEncrypt", ["kms:ReEncryptFrom", "kms:ReEncryptTo"]),
    ("Kinesis", "PutRecords", ["kinesis:PutRecords"]),
    ("Firehose", "PutRecordBatch", ["firehose:PutRecordBatch"]),
    ("EventBridge", "PutEvents", ["events:PutEvents"]),
    ("ECR", "GetAuthorizationToken", ["ecr:GetAuthorizationToken"]),
    ("EC2", "DescribeInstances", ["ec2:DescribeInstances"]),
    ("IAM", "ListRoles", ["iam:ListRoles"]),
    ("STS", "AssumeRole", ["sts:AssumeRole"]),
    ("Bedrock Runtime", "InvokeModel", ["bedrock:InvokeModel"]),
    ("Bedrock Runtime", "Converse", ["bedrock:InvokeModel"]),
    ("Budgets", "DescribeBudgets", ["budgets:ViewBudget"]),
    ("Timestream Query", "Query", ["timestream:Select"]),
    ("CloudControl", "GetResource", ["cloudformation:GetResource"]),
]


@pytest.mark.parametrize(("service", "api", "actions"), KNOWN, ids=[f"{s}.{a}" for s, a, _ in KNOWN])
def test_known_pairs(action_map: ActionMap, service: str, api: str, actions: list[str]) -> None:
    mapping = action_map.lookup(service, api)
    assert sorted(mapping.actions) == sorted(actions)


@pytest.mark.parametrize(
    ("service", "api"),
    [
        ("STS", "GetCallerIdentity"),
        ("DynamoDB", "DescribeEndpoints"),
        ("STS", "AssumeRoleWithWebIdentity"),
        ("Cognito Identity Provider", "InitiateAuth"),
        ("SSO OIDC", "CreateToken"),
        ("CodeCatalyst", "ListSpaces"),
    ],
)
def test_permissionless_calls_need_no_action(action_map: ActionMap, service: str, api: str) -> None:
    mapping = action_map.lookup(service, api)
    assert mapping.mapped and mapping.permissionless and mapping.actions == ()


def test_create_function_always_passes_its_required_role(action_map: ActionMap) -> None:
    mapping = action_map.lookup("Lambda", "CreateFunction")
    assert mapping.actions == ("iam:PassRole", "lambda:CreateFunction")
    assert "iam:PassRole" not in mapping.dependent


@pytest.mark.parametrize(
    ("service", "api"),
    [("ECS", "RunTask"), ("SFN", "CreateStateMachine"), ("Glue", "CreateJob"), ("CodeBuild", "CreateProject")],
)
def test_calls_that_pass_a_role_need_pass_role(action_map: ActionMap, service: str, api: str) -> None:
    mapping = action_map.lookup(service, api)
    assert "iam:PassRole" in (*mapping.actions, *mapping.dependent)


@pytest.mark.parametrize(("service", "api"), [("STS", "AssumeRole"), ("IAM", "DeleteRole"), ("S3", "GetObject")])
def test_calls_that_pass_no_role_need_no_pass_role(action_map: ActionMap, service: str, api: str) -> None:
    assert "iam:PassRole" not in action_map.lookup(service, api).dependent


def test_copy_reads_a_source_that_csm_does_not_name(action_map: ActionMap) -> None:
    assert action_map.lookup("S3", "CopyObject").other_resource == frozenset({"s3:GetObject", "s3:GetObjectVersion"})


@pytest.mark.parametrize(
    ("service", "api", "resolved"),
    [
        ("s3", "ListBuckets", "S3"),
        ("logs", "PutLogEvents", "CloudWatch Logs"),
        ("cloudwatchlogs", "PutLogEvents", "CloudWatch Logs"),
        ("stepfunctions", "StartExecution", "SFN"),
        ("CLOUDFRONT", "ListDistributions", "CloudFront"),
    ],
)
def test_other_sdks_service_names_resolve(action_map: ActionMap, service: str, api: str, resolved: str) -> None:
    assert action_map.resolve_service(service) == resolved
    assert action_map.lookup(service, api).mapped


def test_operation_names_are_case_insensitive_and_date_suffix_optional(action_map: ActionMap) -> None:
    assert action_map.lookup("S3", "listbuckets").actions == ("s3:ListAllMyBuckets",)
    assert action_map.lookup("CloudFront", "GetDistribution").actions == ("cloudfront:GetDistribution",)


@pytest.mark.parametrize(("service", "api"), [("NoSuchService", "ListThings"), ("S3", "FlyToTheMoon")])
def test_unknown_calls_are_reported_not_invented(action_map: ActionMap, service: str, api: str) -> None:
    mapping = action_map.lookup(service, api)
    assert not mapping.mapped and mapping.actions == ()
    assert mapping.note and ("unknown" in mapping.note)


def test_canonical_action_uses_the_reference_spelling(action_map: ActionMap) -> None:
    assert action_map.canonical_action("s3:listallmybuckets") == "s3:ListAllMyBuckets"
    assert action_map.canonical_action("s3:NoSuchThing") is None
    assert action_map.canonical_action("s3:*") is None
    assert action_map.canonical_action("not an action") is None


def test_resource_types_come_from_the_reference(action_map: ActionMap) -> None:
    types = {kind.name: kind.required for kind in action_map.resource_types("dynamodb:Query")}
    assert types == {"index": False, "table": True}
    [bucket] = [kind for kind in action_map.resource_types("s3:ListBucket") if kind.name == "bucket"]
    assert bucket.formats == ("arn:${Partition}:s3:::${BucketName}",)
    assert action_map.resource_types("s3:ListAllMyBuckets") == ()
