"""The proxy's request matcher on real requests of botocore's own clients (captured before sending) for
every protocol, and the cases that must stay unmatched. Other SDKs' requests: test_proxy_sdk_requests.py."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

import pytest
from botocore.config import Config
from botocore.serialize import create_serializer

from collector_runtime.sources.proxy.matcher import (
    AMBIGUOUS,
    NO_OPERATION,
    NO_SERVICE,
    MatchedCall,
    UnmatchedCall,
    match_request,
)
from collector_runtime.sources.proxy.request import MAX_BODY, HttpRequest, http_request
from collector_runtime.sources.proxy.service_models import ServiceModels
from tests.proxy_requests import ACCESS_KEY_ID, ACCOUNT, capturing_client, request_of

SCOPE = f"AWS4-HMAC-SHA256 Credential={ACCESS_KEY_ID}/20260101/eu-west-1/{{}}/aws4_request, SignedHeaders=host"


def sent(session: Any, service: str, operation: str, params: dict[str, Any], region: str = "eu-west-1") -> HttpRequest:
    with capturing_client(session, service, region) as client:
        return request_of(client, operation, params)


def matched(service_models: ServiceModels, request: HttpRequest) -> MatchedCall:
    result = match_request(request, service_models)
    assert isinstance(result, MatchedCall), result
    return result


CASES = [
    # json
    ("dynamodb", "PutItem", {"TableName": "orders", "Item": {"pk": {"S": "1"}}}, "DynamoDB", {"TableName": "orders"}),
    ("logs", "PutLogEvents", {"logGroupName": "g", "logStreamName": "s", "logEvents": []}, "CloudWatch Logs", None),
    ("sqs", "SendMessage", {"QueueUrl": "https://sqs.eu-west-1.amazonaws.com/1/q", "MessageBody": "m"}, "SQS", None),
    ("secretsmanager", "GetSecretValue", {"SecretId": "db"}, "Secrets Manager", {"SecretId": "db"}),
    ("kms", "Decrypt", {"CiphertextBlob": b"x", "KeyId": "alias/app"}, "KMS", {"KeyId": "alias/app"}),
    # rest-json
    ("lambda", "Invoke", {"FunctionName": "fn", "Payload": b"{}"}, "Lambda", {"FunctionName": "fn"}),
    (
        "lambda",
        "CreateFunction",
        {"FunctionName": "fn", "Role": "arn:aws:iam::1:role/r", "Code": {"ZipFile": b"z"}},
        "Lambda",
        {"FunctionName": "fn", "Role": "arn:aws:iam::1:role/r"},
    ),
    ("apigateway", "GetRestApi", {"restApiId": "a1"}, "API Gateway", {"restApiId": "a1"}),
    ("eks", "DescribeCluster", {"name": "prod"}, "EKS", {"name": "prod"}),
    # rest-xml
    (
        "s3",
        "PutObject",
        {"Bucket": "b", "Key": "a/b c.txt", "Body": b"data"},
        "S3",
        {"Bucket": "b", "Key": "a/b c.txt"},
    ),
    ("s3", "PutObjectTagging", {"Bucket": "b", "Key": "k", "Tagging": {"TagSet": []}}, "S3", None),
    ("s3", "ListObjectsV2", {"Bucket": "b", "Prefix": "logs/"}, "S3", {"Bucket": "b", "Prefix": "logs/"}),
    ("s3", "ListObjects", {"Bucket": "b"}, "S3", {"Bucket": "b"}),
    ("s3", "ListBuckets", {}, "S3", {}),
    ("s3", "CopyObject", {"Bucket": "b", "Key": "k", "CopySource": "src/k"}, "S3", None),
    ("s3", "CreateMultipartUpload", {"Bucket": "b", "Key": "k"}, "S3", None),
    ("s3", "UploadPart", {"Bucket": "b", "Key": "k", "PartNumber": 1, "UploadId": "u", "Body": b"x"}, "S3", None),
    (
        "s3",
        "UploadPartCopy",
        {"Bucket": "b", "Key": "k", "PartNumber": 1, "UploadId": "u", "CopySource": "s/k"},
        "S3",
        None,
    ),
    ("s3", "ListParts", {"Bucket": "b", "Key": "k", "UploadId": "u"}, "S3", None),
    ("s3", "GetBucketAcl", {"Bucket": "b"}, "S3", {"Bucket": "b"}),
    ("s3", "DeleteObjects", {"Bucket": "b", "Delete": {"Objects": [{"Key": "k"}]}}, "S3", {"Bucket": "b"}),
    ("s3", "ListDirectoryBuckets", {}, "S3", {}),
    ("s3control", "ListAccessPoints", {"AccountId": "123456789012"}, "S3 Control", None),
    ("route53", "ChangeResourceRecordSets", {"HostedZoneId": "Z1", "ChangeBatch": {"Changes": []}}, "Route 53", None),
    # query
    ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "s"}, "STS", None),
    ("sns", "Publish", {"TopicArn": "arn:aws:sns:eu-west-1:1:t", "Message": "m"}, "SNS", None),
    ("iam", "GetRole", {"RoleName": "r"}, "IAM", {"RoleName": "r"}),
    ("cloudformation", "DescribeStacks", {"StackName": "app"}, "CloudFormation", {"StackName": "app"}),
    ("elb", "DescribeLoadBalancers", {}, "Elastic Load Balancing", {}),
    ("elbv2", "DescribeLoadBalancers", {}, "Elastic Load Balancing v2", {}),
    # ec2
    ("ec2", "DescribeInstances", {"InstanceIds": ["i-1"]}, "EC2", {}),
    ("ec2", "StopInstances", {"InstanceIds": ["i-1"]}, "EC2", {}),
    ("ec2", "DescribeImages", {"ImageIds": ["ami-1"]}, "EC2", {}),
    # smithy-rpc-v2-cbor (botocore's only protocol for these)
    ("eventbridgev2", "DescribeEventBus", {"EventBusArn": "arn:aws:events:eu-west-1:1:event-bus/b"}, None, None),
]


@pytest.mark.parametrize(("service", "operation", "params", "service_id", "identifiers"), CASES)
def test_botocore_requests_of_every_protocol(
    service_models: ServiceModels,
    session: Any,
    service: str,
    operation: str,
    params: dict[str, Any],
    service_id: str | None,
    identifiers: dict[str, str] | None,
) -> None:
    result = matched(service_models, sent(session, service, operation, params))
    model = session.get_service_model(service)
    assert (result.service, result.operation) == (service_id or model.metadata["serviceId"], operation)
    assert result.account == ACCOUNT
    expected = identifiers if identifiers is not None else {k: v for k, v in params.items() if _looks_named(k)}
    assert result.identifiers == expected
    assert result.members >= {k for k in params if k != "Body"}


def _looks_named(member: str) -> bool:
    return member.endswith(("Name", "Arn", "Url", "Id")) or member in ("Bucket", "Key", "CopySource", "Role")


def test_region_is_the_signing_region(service_models: ServiceModels, session: Any) -> None:
    assert (
        matched(service_models, sent(session, "sqs", "ListQueues", {}, region="ap-southeast-2")).region
        == "ap-southeast-2"
    )
    assert matched(service_models, sent(session, "iam", "ListRoles", {})).region == "us-east-1"  # global service


def test_cloudfront_operations_carry_their_wire_name(service_models: ServiceModels, session: Any) -> None:
    assert matched(service_models, sent(session, "cloudfront", "ListDistributions", {})).operation == (
        "ListDistributions2020_05_31"
    )


def test_cbor_request_of_a_service_botocore_calls_with_json(service_models: ServiceModels, session: Any) -> None:
    """CloudWatch speaks rpc-v2-cbor, json and query; botocore picks json, other SDKs may pick CBOR."""
    operation = session.get_service_model("cloudwatch").operation_model("PutMetricData")
    wire = create_serializer("smithy-rpc-v2-cbor").serialize_to_request(
        {"Namespace": "app/orders", "MetricData": [{"MetricName": "m", "Value": 1.0}]}, operation
    )
    headers = {**wire["headers"], "Authorization": SCOPE.format("monitoring")}
    request = http_request(
        "POST", "monitoring.eu-west-1.amazonaws.com", wire["url_path"], "", headers=headers, body=wire["body"]
    )
    result = matched(service_models, request)
    assert (result.service, result.operation, result.identifiers) == (
        "CloudWatch",
        "PutMetricData",
        {"Namespace": "app/orders"},
    )
    assert result.members == {"Namespace", "MetricData"}


def test_unsigned_operation_is_matched_by_host(service_models: ServiceModels, session: Any) -> None:
    request = sent(
        session,
        "sts",
        "AssumeRoleWithWebIdentity",
        {"RoleArn": "arn:aws:iam::1:role/r", "RoleSessionName": "s", "WebIdentityToken": "t"},
    )
    assert "authorization" not in request.headers
    result = matched(service_models, request)
    assert (result.service, result.operation, result.account) == ("STS", "AssumeRoleWithWebIdentity", None)
    assert "t" not in result.identifiers.values()


@pytest.mark.parametrize("signature_version", [None, "s3v4"])  # botocore presigns S3 with SigV2 by default
def test_presigned_url_is_matched(service_models: ServiceModels, session: Any, signature_version: str | None) -> None:
    config = Config(signature_version=signature_version) if signature_version else None
    client = session.create_client("s3", region_name="eu-west-1", config=config)
    url = client.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "a/k.txt"}, ExpiresIn=60)
    parts = urlsplit(url)
    result = matched(service_models, http_request("GET", parts.netloc, parts.path, parts.query, headers={}))
    assert (result.operation, result.identifiers, result.account) == (
        "GetObject",
        {"Bucket": "b", "Key": "a/k.txt"},
        ACCOUNT,
    )
    assert not any("Amz" in member for member in result.members)


def test_sigv2_request_is_matched_by_host(service_models: ServiceModels) -> None:
    body = b"Action=ListQueues&Version=2012-11-05&AWSAccessKeyId=AKIAIOSFODNN7EXAMPLE&SignatureVersion=2"
    headers = {"Content-Type": "application/x-www-form-urlencoded"}
    result = matched(
        service_models, http_request("POST", "sqs.eu-west-1.amazonaws.com", "/", "", headers=headers, body=body)
    )
    assert (result.service, result.operation, result.region) == ("SQS", "ListQueues", None)


# --- what must stay unmatched, and why


def signed(service: str, method: str, host: str, path: str, query: str = "", **headers: str) -> HttpRequest:
    return http_request(method, host, path, query, headers={"Authorization": SCOPE.format(service), **headers})


def test_unknown_signing_name_and_host(service_models: ServiceModels) -> None:
    result = match_request(signed("nosuchservice", "GET", "nosuchservice.eu-west-1.amazonaws.com", "/"), service_models)
    assert result == UnmatchedCall("nosuchservice", "eu-west-1", ACCOUNT, NO_SERVICE, ())


def test_no_operation_fits(service_models: ServiceModels) -> None:
    result = match_request(signed("lambda", "GET", "lambda.eu-west-1.amazonaws.com", "/nothing/here"), service_models)
    assert isinstance(result, UnmatchedCall)
    assert (result.reason, result.signing_name) == (NO_OPERATION, "lambda")
    assert "lambda" in result.tried


def test_unknown_target_operation(service_models: ServiceModels) -> None:
    request = signed(
        "dynamodb", "POST", "dynamodb.eu-west-1.amazonaws.com", "/", **{"X-Amz-Target": "DynamoDB_20120810.Nope"}
    )
    assert match_request(request, service_models) == UnmatchedCall(
        "dynamodb", "eu-west-1", ACCOUNT, NO_OPERATION, ("dynamodb",)
    )


class _TwoLookalikes:
    """A botocore-loader stand-in with two services that sign alike and send the same request."""

    search_paths = ()

    def list_available_services(self, _type: str) -> list[str]:
        return ["alpha", "beta"]

    def determine_latest_version(self, _name: str, _type: str) -> str:
        return "2026-01-01"

    def load_service_model(self, name: str, _type: str) -> dict[str, Any]:
        metadata = {
            "apiVersion": "2026-01-01",
            "endpointPrefix": "shared",
            "protocol": "rest-json",
            "serviceId": name.title(),
            "signingName": "shared",
        }
        operation = {"name": "Get", "http": {"method": "GET", "requestUri": "/things/{Id}"}, "input": {"shape": "In"}}
        shapes = {
            "In": {
                "type": "structure",
                "required": ["Id"],
                "members": {"Id": {"shape": "S", "location": "uri", "locationName": "Id"}},
            },
            "S": {"type": "string"},
        }
        return {"version": "2.0", "metadata": metadata, "operations": {"Get": operation}, "shapes": shapes}


def test_equal_matches_in_two_services_stay_unmatched() -> None:
    result = match_request(
        signed("shared", "GET", "shared.eu-west-1.amazonaws.com", "/things/1"), ServiceModels(_TwoLookalikes())
    )
    assert result == UnmatchedCall("shared", "eu-west-1", ACCOUNT, AMBIGUOUS, ("alpha.Get", "beta.Get"))


def test_one_api_under_several_names_goes_to_the_signing_names_service(
    service_models: ServiceModels, session: Any
) -> None:
    """DocumentDB and Neptune are RDS's API (same host, version and IAM actions): the request cannot tell."""
    result = matched(service_models, sent(session, "docdb", "DescribeDBClusters", {}))
    assert (result.service, result.service_name) == ("RDS", "rds")


def test_deprecated_twin_sending_the_same_request(service_models: ServiceModels, session: Any) -> None:
    result = matched(service_models, sent(session, "s3", "GetBucketLifecycle", {"Bucket": "b"}))
    assert result.operation == "GetBucketLifecycleConfiguration"


# --- bodies: bounded, never kept


def test_cut_form_body_still_names_its_call(service_models: ServiceModels) -> None:
    headers = {"Authorization": SCOPE.format("sqs"), "Content-Type": "application/x-www-form-urlencoded"}
    start = "Action=SendMessage&Version=2012-11-05&QueueUrl=https%3A%2F%2Fq&"
    short_values = "&".join(f"MessageAttribute.{i}.Name=a" for i in range(MAX_BODY // 20))  # none left out
    request = http_request(
        "POST", "sqs.eu-west-1.amazonaws.com", "/", "", headers=headers, body=(start + short_values).encode()
    )
    assert request.body_truncated and len(request.body) == MAX_BODY
    result = matched(service_models, request)
    assert (result.operation, result.identifiers) == ("SendMessage", {"QueueUrl": "https://q"})
    one_long = (start + "MessageBody=" + "S" * MAX_BODY + "&DelaySeconds=5").encode()
    request = http_request("POST", "sqs.eu-west-1.amazonaws.com", "/", "", headers=headers, body=one_long)
    assert request.body == (start + "MessageBody=&DelaySeconds=5").encode() and not request.body_truncated


def test_cut_json_body_gives_no_body_members(service_models: ServiceModels, session: Any) -> None:
    short_strings = [{"S": "x" * 100}] * (MAX_BODY // 100)  # over MAX_BODY in strings too short to leave out
    whole = sent(session, "dynamodb", "PutItem", {"TableName": "t", "Item": {"pk": {"L": short_strings}}})
    assert whole.body_truncated
    result = matched(service_models, whole)
    assert (result.operation, result.identifiers, result.members) == ("PutItem", {}, frozenset())
    one_long = sent(session, "dynamodb", "PutItem", {"TableName": "t", "Item": {"pk": {"S": "x" * MAX_BODY}}})
    assert not one_long.body_truncated  # the long string is left out (body_skeleton), the rest read
    assert matched(service_models, one_long).members == {"TableName", "Item"}
