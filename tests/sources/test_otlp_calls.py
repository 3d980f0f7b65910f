"""AWS SDK spans to ObservedCalls: the real captured exports, then the variants they do not show."""

from __future__ import annotations

import pytest

from collector_runtime.core.records import DEFAULT_WORKLOAD, DENIED, FAILED, OK, OTLP, ObservedCall
from collector_runtime.data import load_action_map
from collector_runtime.sources.otlp import decode_export, observed_calls, resolve_service
from tests.conftest import SECRET_ACCESS_KEY_ID
from tests.otlp_builders import MANIFEST, MAX_BYTES, PROTOBUF, body, export, fixture, span

SERVICES = load_action_map()  # the action map: serviceIds and their ARN formats
ACCOUNT = "123456789012"


def calls_of(name: str, workload_attribute: str | None = None, *, ignored: int = 0) -> list[ObservedCall]:
    data, content_type, encoding = fixture(name)
    export_ = decode_export(data, content_type, encoding, max_bytes=MAX_BYTES, workload_attribute=workload_attribute)
    assert (export_.ignored, export_.rejected) == (ignored, 0)
    return observed_calls(export_, SERVICES)


def calls_from(*spans: object, resource: dict[str, object] | None = None) -> list[ObservedCall]:
    data = body(export(*spans, resource=resource))  # type: ignore[arg-type]
    return observed_calls(decode_export(data, PROTOBUF, None, max_bytes=MAX_BYTES), SERVICES)


def by_call(calls: list[ObservedCall]) -> dict[tuple[str, str, str], ObservedCall]:
    """The last call per (service, operation, outcome)."""
    return {(c.service, c.operation, c.outcome): c for c in calls}


# --- the real exports ------------------------------------------------------------------------------------

CALLS_FIXTURES = [
    "python-botocore-0.66b2.pb",
    "python-botocore-0.66b2.pb.gz",
    "js-aws-sdk-0.78.0.pb",
    "js-aws-sdk-0.78.0.pb.gz",
    "js-aws-sdk-0.78.0.json",
    "js-aws-sdk-0.78.0.json.gz",
    "js-aws-sdk-0.79.0.pb",
]
EVERY_CALL = {
    ("STS", "GetCallerIdentity", OK),
    ("S3", "CreateBucket", OK),
    ("S3", "PutObject", OK),
    ("S3", "GetObject", OK),
    ("S3", "ListObjectsV2", OK),
    ("S3", "GetObject", FAILED),
    ("S3", "HeadBucket", FAILED),
    ("DynamoDB", "CreateTable", OK),
    ("DynamoDB", "PutItem", OK),
    ("DynamoDB", "GetItem", OK),
    ("DynamoDB", "Query", OK),
    ("DynamoDB", "BatchGetItem", OK),
    ("DynamoDB", "DescribeTable", FAILED),
    ("SQS", "CreateQueue", OK),
    ("SQS", "SendMessage", OK),
    ("SQS", "ReceiveMessage", OK),
    ("SQS", "DeleteMessage", OK),
    ("SQS", "GetQueueAttributes", OK),
    ("SNS", "CreateTopic", OK),
    ("SNS", "Publish", OK),
    ("SNS", "ListTopics", OK),
    ("Secrets Manager", "CreateSecret", OK),
    ("Secrets Manager", "GetSecretValue", OK),
    ("Secrets Manager", "GetSecretValue", FAILED),
    ("Lambda", "ListFunctions", OK),
    ("Lambda", "Invoke", FAILED),
    ("Lambda", "GetFunction", FAILED),
    ("Kinesis", "CreateStream", OK),
    ("Kinesis", "PutRecord", OK),
    ("Kinesis", "DescribeStreamSummary", OK),
    ("SFN", "CreateStateMachine", OK),
    ("SFN", "StartExecution", OK),
    ("SFN", "DescribeStateMachine", OK),
    ("CloudWatch Logs", "CreateLogGroup", OK),
    ("CloudWatch Logs", "DescribeLogGroups", OK),
}


@pytest.mark.parametrize("name", CALLS_FIXTURES)
def test_every_call_of_the_capture_becomes_one_record(name: str) -> None:
    calls = calls_of(name)
    assert len(calls) == 35
    assert {(c.service, c.operation, c.outcome) for c in calls} == EVERY_CALL  # serviceIds, spaces and all
    assert {(c.workload, c.source, c.region) for c in calls} == {("orders-api", OTLP, "eu-west-1")}
    assert all(c.time_ms and 1_790_000_000_000 < c.time_ms < 1_800_000_000_000 for c in calls)


# What both instrumentations name, as ARNs: the account comes from an ARN or a queue URL of the same span.
SHARED_RESOURCES = {
    ("DynamoDB", "GetItem", OK): ("arn:aws:dynamodb:eu-west-1:*:table/orders",),
    ("DynamoDB", "DescribeTable", FAILED): ("arn:aws:dynamodb:eu-west-1:*:table/missing-table",),
    ("SQS", "SendMessage", OK): ("arn:aws:sqs:eu-west-1:123456789012:jobs",),
    ("SQS", "ReceiveMessage", OK): ("arn:aws:sqs:eu-west-1:123456789012:jobs",),
    ("SQS", "CreateQueue", OK): (),
    ("SNS", "Publish", OK): ("arn:aws:sns:eu-west-1:123456789012:alerts",),
    ("SNS", "CreateTopic", OK): ("arn:aws:sns:eu-west-1:123456789012:alerts",),  # from the response
    ("Secrets Manager", "GetSecretValue", FAILED): (),  # the ARN comes from the response only
    ("Lambda", "Invoke", FAILED): ("arn:aws:lambda:eu-west-1:*:function:missing-fn",),
    ("Lambda", "GetFunction", FAILED): (),
    ("SFN", "StartExecution", OK): ("arn:aws:states:eu-west-1:123456789012:stateMachine:flow",),
    ("CloudWatch Logs", "CreateLogGroup", OK): (),
    ("STS", "GetCallerIdentity", OK): (),
}
# Where they differ: only JavaScript names the bucket and the stream; only Python reads the
# CreateStateMachine response.
JS_ONLY = {
    ("S3", "GetObject", OK): ("arn:aws:s3:::otel-demo-bucket",),
    ("S3", "HeadBucket", FAILED): ("arn:aws:s3:::no-such-bucket",),
    ("Kinesis", "PutRecord", OK): ("arn:aws:kinesis:eu-west-1:*:stream/clicks",),
    ("SFN", "CreateStateMachine", OK): (),
}
PYTHON_ONLY = {
    ("S3", "GetObject", OK): (),
    ("S3", "HeadBucket", FAILED): (),
    ("Kinesis", "PutRecord", OK): (),
    ("SFN", "CreateStateMachine", OK): ("arn:aws:states:eu-west-1:123456789012:stateMachine:flow",),
}


@pytest.mark.parametrize("name", CALLS_FIXTURES)
def test_resources_named_by_each_instrumentation(name: str) -> None:
    calls = by_call(calls_of(name))
    expected = SHARED_RESOURCES | (PYTHON_ONLY if name.startswith("python") else JS_ONLY)
    assert {key: calls[key].resources for key in expected} == expected


def test_secret_arn_names_the_account() -> None:
    call = by_call(calls_of("js-aws-sdk-0.78.0.pb"))[("Secrets Manager", "GetSecretValue", OK)]
    assert call.account == ACCOUNT
    assert call.resources == ("arn:aws:secretsmanager:eu-west-1:123456789012:secret:db-password-joULdW",)


@pytest.mark.parametrize("name", ["python-botocore-0.66b2.pb", "js-aws-sdk-0.78.0.pb"])
def test_failed_calls_carry_the_service_error_code(name: str) -> None:
    calls = by_call(calls_of(name))
    assert calls[("S3", "GetObject", FAILED)].error_code == "NoSuchKey"
    assert calls[("DynamoDB", "DescribeTable", FAILED)].error_code == "ResourceNotFoundException"
    assert calls[("Lambda", "Invoke", FAILED)].error_code == "ResourceNotFoundException"
    assert calls[("S3", "HeadBucket", FAILED)].error_code in (None, "NotFound")  # a 404 with no body


def test_denied_python() -> None:
    calls = by_call(calls_of("python-botocore-0.66b2-denied.pb"))
    denied = {key[:2]: call for key, call in calls.items() if call.outcome == DENIED}
    assert set(denied) == {
        ("S3", "ListObjectsV2"),
        ("SQS", "ListQueues"),
        ("SQS", "SendMessage"),
        ("DynamoDB", "ListTables"),
        ("SNS", "ListTopics"),
        ("Secrets Manager", "GetSecretValue"),
    }
    assert denied[("S3", "ListObjectsV2")].error_code == "AccessDenied"
    assert denied[("SNS", "ListTopics")].denied_actions == ("sns:ListTopics",)
    # moto answers JSON-protocol services with an XML 403: botocore puts it in the message, actions and all
    assert denied[("SQS", "SendMessage")].denied_actions == ("sqs:SendMessage",)
    assert denied[("DynamoDB", "ListTables")].denied_actions == ("dynamodb:ListTables",)
    assert calls[("S3", "ListBuckets", OK)].outcome == OK


def test_denied_javascript() -> None:
    calls = by_call(calls_of("js-aws-sdk-0.78.0-denied.pb"))
    assert calls[("S3", "ListObjectsV2", DENIED)].error_code == "AccessDenied"
    assert calls[("SNS", "ListTopics", DENIED)].denied_actions == ("sns:ListTopics",)
    # the XML 403 makes the JavaScript SDK throw a SyntaxError: denied by its status, no code
    listed = calls[("DynamoDB", "ListTables", DENIED)]
    assert (listed.error_code, listed.denied_actions) == (None, ())
    assert calls[("SQS", "SendMessage", DENIED)].resources == ("arn:aws:sqs:eu-west-1:123456789012:locked-queue",)


@pytest.mark.parametrize("name", ["python-botocore-0.66b2-lambda-resource.pb", "js-aws-sdk-0.78.0-lambda-resource.pb"])
def test_lambda_resource_gives_workload_and_account(name: str) -> None:
    calls = calls_of(name)
    assert {(c.workload, c.account, c.region) for c in calls} == {("orders-fn", ACCOUNT, "eu-west-1")}
    table = by_call(calls)[("DynamoDB", "GetItem", OK)]
    assert table.resources == ("arn:aws:dynamodb:eu-west-1:123456789012:table/orders",)


ADOT_PARTS = [f"adot-js-0.13.0-{i}.pb" for i in range(1, 5)]


def test_adot_distro_javascript() -> None:
    """The ADOT layer's SDK: 10 spans a request, no cloud.region on spans (aws.auth.region instead),
    queue and function names of its own, and the resource the layer's otel-instrument script sets."""
    calls = [call for name in ADOT_PARTS for call in calls_of(name)]
    assert {(c.service, c.operation, c.outcome) for c in calls} == EVERY_CALL
    assert {(c.workload, c.region) for c in calls} == {("orders-fn", "eu-west-1")}
    found = by_call(calls)
    assert found[("SQS", "CreateQueue", OK)].resources == ("arn:aws:sqs:eu-west-1:*:jobs",)  # aws.sqs.queue.name
    assert found[("Lambda", "GetFunction", FAILED)].resources == ("arn:aws:lambda:eu-west-1:*:function:other-fn",)
    assert found[("S3", "GetObject", OK)].resources == ("arn:aws:s3:::otel-demo-bucket",)
    # the resource's aws.log.group.names is the function's own log group, not a call target
    assert not any("log-group" in arn for call in calls for arn in call.resources)


def test_adot_distro_python() -> None:
    """The ADOT Python layer's SDK: aws.region instead of cloud.region, buckets, streams, queue and
    function names; boto3sqs adds three messaging spans that are no API call (ignored)."""
    parts = [calls_of(f"adot-python-0.21.0-{i}.pb", ignored=3 if i == 2 else 0) for i in range(1, 5)]
    calls = [call for part in parts for call in part]
    assert {(c.service, c.operation, c.outcome) for c in calls} == EVERY_CALL
    assert {(c.workload, c.region) for c in calls} == {("orders-fn", "eu-west-1")}
    found = by_call(calls)
    assert found[("S3", "HeadBucket", FAILED)].resources == ("arn:aws:s3:::no-such-bucket",)
    assert found[("Kinesis", "PutRecord", OK)].resources == ("arn:aws:kinesis:eu-west-1:*:stream/clicks",)
    assert found[("SQS", "CreateQueue", OK)].resources == ("arn:aws:sqs:eu-west-1:123456789012:jobs",)
    assert found[("Lambda", "GetFunction", FAILED)].resources == ("arn:aws:lambda:eu-west-1:*:function:other-fn",)
    assert found[("S3", "GetObject", FAILED)].error_code == "NoSuchKey"


@pytest.mark.parametrize(
    "name",
    [
        "adot-js-0.13.0-denied-1.pb",
        "adot-js-0.13.0-denied-2.pb",
        "adot-python-0.21.0-denied-1.pb",
        "adot-python-0.21.0-denied-2.pb",
    ],
)
def test_adot_access_key_ids_never_survive_decoding(name: str) -> None:
    data, content_type, encoding = fixture(name)
    assert SECRET_ACCESS_KEY_ID.encode() in data
    decoded = decode_export(data, content_type, encoding, max_bytes=MAX_BYTES)
    assert decoded.spans
    assert SECRET_ACCESS_KEY_ID not in repr(decoded)
    assert SECRET_ACCESS_KEY_ID not in repr(observed_calls(decoded, SERVICES))


def test_adot_python_denied() -> None:
    parts = [calls_of(f"adot-python-0.21.0-denied-{i}.pb", ignored=1) for i in (1, 2)]
    calls = by_call(parts[0] + parts[1])
    assert calls[("SNS", "ListTopics", DENIED)].denied_actions == ("sns:ListTopics",)
    assert calls[("SQS", "SendMessage", DENIED)].denied_actions == ("sqs:SendMessage",)
    assert calls[("S3", "ListObjectsV2", DENIED)].resources == ("arn:aws:s3:::locked-bucket",)


def test_adot_javascript_denied() -> None:
    first, second = calls_of("adot-js-0.13.0-denied-2.pb")
    assert (first.service, first.operation, first.outcome, first.denied_actions) == (
        "SNS",
        "ListTopics",
        DENIED,
        ("sns:ListTopics",),
    )
    assert (second.service, second.outcome) == ("Secrets Manager", DENIED)


def test_configured_workload_attribute() -> None:
    calls = calls_of("js-aws-sdk-0.78.0-lambda-resource.pb", workload_attribute="cloud.platform")
    assert {c.workload for c in calls} == {"aws_lambda"}


@pytest.mark.parametrize("name", sorted(MANIFEST))
def test_nothing_but_identifiers_is_kept(name: str) -> None:
    data, content_type, encoding = fixture(name)
    decoded = decode_export(data, content_type, encoding, max_bytes=MAX_BYTES)
    kept, records = repr(decoded), repr(observed_calls(decoded, SERVICES))
    never_kept = (
        "stacktrace",
        "Traceback",
        "/work/",
        "aws.request",
        "is not authorized",
        "Deserialization",
        "access_key",
    )
    for never in never_kept:
        assert never not in kept
    for never in ("127.0.0.1", "http://", "url"):  # the queue URL is kept until it has become an ARN
        assert never not in records
    assert {key for span in decoded.spans for key, _ in span.identifiers} <= {
        "aws.dynamodb.table_names",
        "aws.queue_url",
        "messaging.url",
        "url.full",
        "aws.s3.bucket",
        "aws.sns.topic.arn",
        "aws.secretsmanager.secret.arn",
        "aws.step_functions.state_machine.arn",
        "aws.kinesis.stream.name",
        "aws.kinesis.stream_name",
        "aws.sqs.queue.url",
        "aws.sqs.queue.name",
        "faas.invoked_name",
        "aws.lambda.function.name",
    }


# --- the variants ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sent", "service_id"),
    [
        ("Secrets Manager", "Secrets Manager"),  # botocore: the serviceId
        ("SecretsManager", "Secrets Manager"),  # JavaScript v3: without spaces
        ("CloudWatchLogs", "CloudWatch Logs"),
        ("Sns", "SNS"),  # Java: client names
        ("DynamoDb", "DynamoDB"),
        ("Sfn", "SFN"),
        ("ApiGateway", "API Gateway"),
        ("dynamodb", "DynamoDB"),
        ("NoSuchService", "NoSuchService"),  # unknown: kept as sent for the mapping to report
    ],
)
def test_service_spellings(sent: str, service_id: str) -> None:
    assert resolve_service(sent, SERVICES) == service_id
    [call] = calls_from(span(sent, "Anything"))
    assert call.service == service_id


def test_region_from_span_then_resource_and_aws_region() -> None:
    resource = {"service.name": "web", "cloud.region": "eu-central-1"}
    spans = [span(), span(cloud__region="us-east-2"), span(aws__region="ap-south-1"), span(cloud__region="bogus")]
    spans.append(span(aws__auth__region="sa-east-1"))
    assert [c.region for c in calls_from(*spans, resource=resource)] == [
        "eu-central-1",
        "us-east-2",
        "ap-south-1",
        "eu-central-1",
        "sa-east-1",
    ]


@pytest.mark.parametrize(
    ("resource", "workload"),
    [
        ({"service.name": "api", "faas.name": "fn"}, "api"),
        ({"service.name": "unknown_service:node", "faas.name": "fn"}, "fn"),
        ({"service.name": "unknown_service"}, DEFAULT_WORKLOAD),
        ({"faas.name": "fn"}, "fn"),
        ({}, DEFAULT_WORKLOAD),
        ({"service.name": "x" * 300, "faas.name": "fn"}, "fn"),
        ({"service.name": 7, "faas.name": "fn"}, "fn"),  # not a string
    ],
)
def test_workload(resource: dict[str, object], workload: str) -> None:
    [call] = calls_from(span(), resource=resource)
    assert call.workload == workload


@pytest.mark.parametrize(
    ("service", "attrs", "expected"),
    [
        ("S3", {"aws__s3__bucket": "logs.example-1"}, ("arn:aws:s3:::logs.example-1",)),
        ("S3", {"aws__s3__bucket": "Bad_Bucket!"}, ()),
        (
            "DynamoDB",
            {"aws__dynamodb__table_names": ["a_b", "c.d"]},
            ("arn:aws:dynamodb:eu-west-1:*:table/a_b", "arn:aws:dynamodb:eu-west-1:*:table/c.d"),
        ),
        ("S3", {"aws__dynamodb__table_names": ["a_b"]}, ()),  # a name binds only its own service's formats
        ("Kinesis", {"aws__kinesis__stream_name": "s"}, ("arn:aws:kinesis:eu-west-1:*:stream/s",)),
        (
            "CloudWatch Logs",
            {"aws__log__group__names": ["/aws/lambda/f"]},
            ("arn:aws:logs:eu-west-1:*:log-group:/aws/lambda/f",),
        ),
        ("Lambda", {"faas__invoked_name": "fn:live"}, ("arn:aws:lambda:eu-west-1:*:function:fn:live",)),
        (
            "Lambda",
            {"aws__lambda__invoked_arn": "arn:aws:lambda:eu-west-1:111122223333:function:f"},
            ("arn:aws:lambda:eu-west-1:111122223333:function:f",),
        ),
        (
            "Lambda",
            {"aws__lambda__function__name": "arn:aws:lambda:eu-west-1:111122223333:function:g"},
            ("arn:aws:lambda:eu-west-1:111122223333:function:g",),
        ),
        (
            "Lambda",
            {"faas__invoked_name": "arn:aws:lambda:eu-west-1:111122223333:function:h:2"},
            ("arn:aws:lambda:eu-west-1:111122223333:function:h:2",),
        ),
        ("SQS", {"aws__sqs__queue__name": "jobs.fifo"}, ("arn:aws:sqs:eu-west-1:*:jobs.fifo",)),
        ("SNS", {"aws__sns__topic__arn": "not an arn"}, ()),
        ("S3", {"aws__s3__key": "private/report.pdf", "db__statement": "SELECT 1"}, ()),
        (
            "NoSuchService",
            {"aws__sns__topic__arn": "arn:aws:sns:eu-west-1:111122223333:t"},
            ("arn:aws:sns:eu-west-1:111122223333:t",),
        ),  # an ARN is kept as named, whatever the service
    ],
)
def test_identifier_rules(service: str, attrs: dict[str, object], expected: tuple[str, ...]) -> None:
    [call] = calls_from(span(service, "Op", cloud__region="eu-west-1", **attrs))
    assert call.resources == expected


def test_a_name_without_region_is_named_in_any_region() -> None:
    [call] = calls_from(span("DynamoDB", "GetItem", aws__dynamodb__table_names=["orders"]))
    assert call.resources == ("arn:aws:dynamodb:*:*:table/orders",)


@pytest.mark.parametrize(
    ("url", "arn"),
    [
        ("https://sqs.us-east-2.amazonaws.com/111122223333/q", "arn:aws:sqs:us-east-2:111122223333:q"),
        ("https://us-west-1.queue.amazonaws.com/111122223333/q.fifo", "arn:aws:sqs:us-west-1:111122223333:q.fifo"),
        ("https://sqs.cn-north-1.amazonaws.com.cn/111122223333/q", "arn:aws-cn:sqs:cn-north-1:111122223333:q"),
        ("http://localhost:4566/000000000000/q", "arn:aws:sqs:eu-west-1:000000000000:q"),  # the call's region
        ("https://sqs.us-east-2.amazonaws.com/111122223333/q?Action=x", None),
        ("https://user:pw@sqs.us-east-2.amazonaws.com/111122223333/q", None),
    ],
)
@pytest.mark.parametrize("key", ["aws__sqs__queue__url", "aws__queue_url", "messaging__url", "url__full"])
def test_queue_urls(url: str, arn: str | None, key: str) -> None:
    [call] = calls_from(span("SQS", "SendMessage", cloud__region="eu-west-1", **{key: url}))
    assert call.resources == ((arn,) if arn else ())
    assert call.account == (url.split("/")[3] if arn else None)


def test_url_full_of_other_services_is_never_kept() -> None:
    url = "https://sqs.us-east-2.amazonaws.com/111122223333/q"
    [call] = calls_from(span("S3", "GetObject", url__full=url))
    assert call.resources == () and call.account is None


def test_account_from_span_resource_or_arn() -> None:
    arn = "arn:aws:sns:eu-west-1:111122223333:t"
    resource = {"service.name": "web", "cloud.account.id": "444455556666"}
    first, second = calls_from(
        span(aws__sns__topic__arn=arn), span(cloud__account__id="777788889999"), resource=resource
    )
    assert (first.account, second.account) == ("444455556666", "777788889999")
    [alone] = calls_from(span(aws__sns__topic__arn=arn))
    assert alone.account == "111122223333"


ARABIC_DIGITS = "\u0661\u0662\u0663\u0664\u0665\u0666\u0667\u0668\u0669\u0660\u0661\u0662"  # 12 digits, not 0-9


def test_an_account_id_is_twelve_ascii_digits() -> None:
    # Python's `\d` takes any script's digits: an account id, in an attribute or an ARN, is 0-9 only
    arn = f"arn:aws:sns:eu-west-1:{ARABIC_DIGITS}:t"
    [call] = calls_from(span("SNS", "Publish", cloud__account__id=ARABIC_DIGITS, aws__sns__topic__arn=arn))
    assert (call.account, call.resources) == (None, ())


@pytest.mark.parametrize(
    ("region", "kept"),
    [
        ("eusc-de-east-1", "eusc-de-east-1"),  # the European Sovereign Cloud: botocore's aws-eusc partition
        ("us-iso-east-1", "us-iso-east-1"),
        ("ap-southeast-7", "ap-southeast-7"),
        ("zz-nowhere-1", None),  # the shape of a region, in no partition
        ("aws-global", None),  # listed by botocore, but no region an ARN names
    ],
)
def test_a_region_is_one_of_botocores_partitions(region: str, kept: str | None) -> None:
    [call] = calls_from(span("DynamoDB", "GetItem", cloud__region=region, aws__dynamodb__table_names=["orders"]))
    assert call.region == kept
    if kept == "eusc-de-east-1":
        assert call.resources == ("arn:aws-eusc:dynamodb:eusc-de-east-1:*:table/orders",)


def test_a_queue_url_with_a_trailing_slash_is_in_its_own_region() -> None:
    url = "https://sqs.us-east-2.amazonaws.com/111122223333/q/"  # accepted as a queue URL: read as one
    [call] = calls_from(span("SQS", "SendMessage", cloud__region="eu-west-1", aws__sqs__queue__url=url))
    assert call.resources == ("arn:aws:sqs:us-east-2:111122223333:q",)


@pytest.mark.parametrize("copy_source", ["src%3Fx/k", "src/", "/src", "src?versionId=1/k"])
def test_a_copy_source_that_names_no_object_names_no_bucket(copy_source: str) -> None:
    # the proxy's reading of x-amz-copy-source (core.s3_buckets): `?versionId=` is split off before decoding
    [call] = calls_from(span("S3", "CopyObject", aws__s3__bucket="dest", aws__s3__copy_source=copy_source))
    assert call.resources == ("arn:aws:s3:::dest",)


@pytest.mark.parametrize(
    ("error", "exception", "status", "outcome", "code", "actions"),
    [
        (None, None, None, OK, None, ()),
        ("boom", None, None, FAILED, None, ()),
        (None, None, 500, FAILED, None, ()),
        (None, None, 403, DENIED, None, ()),
        (
            "x",
            ("AccessDeniedException", "User: u is not authorized to perform: kms:Decrypt on x"),
            400,
            DENIED,
            "AccessDeniedException",
            ("kms:Decrypt",),
        ),
        (
            "x",
            ("botocore.exceptions.ClientError", "An error occurred (ThrottlingException) when calling"),
            400,
            FAILED,
            "ThrottlingException",
            (),
        ),
        (
            "x",
            (
                "*smithy.OperationError",
                "operation error SQS: ListQueues, https response error StatusCode: 403, RequestID: r, "
                "api error AccessDenied: User: u is not authorized to perform: sqs:ListQueues",
            ),
            None,
            DENIED,
            "AccessDenied",
            ("sqs:ListQueues",),
        ),
        (
            "x",
            (
                "software.amazon.awssdk.services.sqs.model.SqsException",
                "User: u is not authorized to perform: sqs:ListQueues (Service: Sqs, Status Code: 403, Request ID: r)",
            ),
            403,
            DENIED,
            "SqsException",
            ("sqs:ListQueues",),
        ),
        ("User: u is not authorized to perform: s3:ListBucket", None, 403, DENIED, None, ("s3:ListBucket",)),
        ("x", ("SyntaxError", "Unexpected token '<'"), 403, DENIED, None, ()),
    ],
)
def test_outcomes(
    error: str | None,
    exception: tuple[str, str] | None,
    status: int | None,
    outcome: str,
    code: str | None,
    actions: tuple[str, ...],
) -> None:
    attrs = {"http__response__status_code": status} if status else {}
    [call] = calls_from(span("SQS", "ListQueues", error=error, exception=exception, **attrs))
    assert (call.outcome, call.error_code, call.denied_actions) == (outcome, code, actions)


def test_other_and_incomplete_spans_are_counted() -> None:
    http_server = span()
    del http_server.attributes[:]
    no_method = span("S3", "")
    bad_service = span("S3\n; rm -rf", "GetObject")
    data = body(export(http_server, no_method, bad_service, span()))
    decoded = decode_export(data, PROTOBUF, None, max_bytes=MAX_BYTES)
    assert (len(decoded.spans), decoded.ignored, decoded.rejected) == (1, 1, 2)


def test_a_span_invoking_an_alias_grants_the_qualified_function() -> None:
    """Lambda authorizes `Invoke` of `fn:live` on `function:fn:live`: the span's name:qualifier reaches the
    policy (it was read, then granted as `function:fn` alone, which IAM denies)."""
    from collector_runtime.core.aggregate import Aggregator
    from collector_runtime.core.policy import PolicyBuilder, PolicyOptions
    from tests.oracle import Request, assert_policy_allows, assert_policy_denies

    action_map = load_action_map()
    [call] = calls_from(span("Lambda", "Invoke", cloud__region="eu-west-1", faas__invoked_name="fn:live"))
    aggregator = Aggregator(action_map)
    aggregator.add(call)
    builder = PolicyBuilder(action_map, PolicyOptions())
    policy = builder.document(builder.grants(aggregator.workloads[call.workload]))
    arn = "arn:aws:lambda:eu-west-1:111122223333:function:"
    assert_policy_allows(policy, [Request("lambda:InvokeFunction", arn + "fn:live", "111122223333")])
    assert_policy_denies(policy, [Request("lambda:InvokeFunction", arn + "fn:other", "111122223333")])
