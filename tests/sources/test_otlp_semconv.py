"""Both OpenTelemetry conventions for AWS SDK spans, each instrumentation's identifiers where it puts them, and
spans in a form the receiver cannot read: counted with a reason, never silently dropped.

The attribute sets are transcribed from the instrumentations' source (cited per test); the old convention's
real captures (Python botocore, JavaScript v3, the ADOT distros) are in test_otlp_calls.py.
"""

from __future__ import annotations

from opentelemetry.proto.trace.v1.trace_pb2 import Span

from collector_runtime.core.records import DENIED, ObservedCall
from collector_runtime.data import load_action_map
from collector_runtime.sources.otlp import SpanRecords, decode_export
from collector_runtime.sources.otlp.counters import OtlpCounters
from tests.otlp_builders import MAX_BYTES, PROTOBUF, attributes, body, export

CATALOG = load_action_map()
ACCOUNT = "123456789012"
QUEUE_URL = f"https://sqs.eu-west-1.amazonaws.com/{ACCOUNT}/orders"
TOPIC_ARN = f"arn:aws:sns:eu-west-1:{ACCOUNT}:alerts"


def raw_span(name: str, values: dict[str, object]) -> Span:
    result = Span(name=name, kind=Span.SpanKind.SPAN_KIND_CLIENT, attributes=attributes(values))
    result.start_time_unix_nano = 1_700_000_000_000_000_000
    return result


def decoded(*spans: Span) -> tuple[list[ObservedCall], dict[str, int]]:
    export_ = decode_export(body(export(*spans)), PROTOBUF, None, max_bytes=MAX_BYTES)
    return SpanRecords(CATALOG).calls(export_), dict(export_.unreadable)


def one_call(name: str, values: dict[str, object]) -> ObservedCall:
    calls, unreadable = decoded(raw_span(name, values))
    assert unreadable == {} and len(calls) == 1
    return calls[0]


def otelaws(service: str, operation: str, **extra: object) -> dict[str, object]:
    """go.opentelemetry.io/contrib/instrumentation/github.com/aws/aws-sdk-go-v2/otelaws 0.70.0, aws.go and
    attributes.go: rpc.system.name "aws-api", rpc.method "<ServiceID>/<Operation>", aws.region."""
    return {"rpc.system.name": "aws-api", "rpc.method": f"{service}/{operation}", "aws.region": "eu-west-1"} | {
        key.replace("__", "."): value for key, value in extra.items()
    }


def test_go_otelaws_current_convention_with_its_identifiers() -> None:
    # sqsattributes.go: the queue URL in server.address
    sqs = one_call("SQS.SendMessage", otelaws("SQS", "SendMessage", server__address=QUEUE_URL))
    assert (sqs.service, sqs.operation, sqs.region, sqs.account) == ("SQS", "SendMessage", "eu-west-1", ACCOUNT)
    assert sqs.resources == (f"arn:aws:sqs:eu-west-1:{ACCOUNT}:orders",)
    # snsattributes.go: the topic's name (the ARN's last part) in messaging.destination.name
    sns = one_call("SNS.Publish", otelaws("SNS", "Publish", messaging__destination__name="alerts"))
    assert (sns.service, sns.operation) == ("SNS", "Publish")
    assert sns.resources == ("arn:aws:sns:eu-west-1:*:alerts",)
    # dynamodbattributes.go: aws.dynamodb.table_names
    table = one_call("DynamoDB.GetItem", otelaws("DynamoDB", "GetItem", aws__dynamodb__table_names=["orders"]))
    assert table.resources == ("arn:aws:dynamodb:eu-west-1:*:table/orders",)
    # a serviceId with a space, as the Go SDK's ServiceID constants spell it
    secret = one_call("Secrets Manager.GetSecretValue", otelaws("Secrets Manager", "GetSecretValue"))
    assert (secret.service, secret.operation) == ("Secrets Manager", "GetSecretValue")


def test_the_server_address_of_another_service_is_no_identifier() -> None:
    # Python botocore sets server.address to the endpoint's host on every span
    call = one_call("S3.ListBuckets", otelaws("S3", "ListBuckets", server__address="s3.eu-west-1.amazonaws.com"))
    assert call.resources == ()


def test_an_sns_destination_that_is_an_arn_or_a_placeholder() -> None:
    # Java agent (aws-sdk-2.2 AwsSdkRequestType.SNS) and JS v3 (services/sns.ts): the TopicArn itself
    arn = one_call("SNS.Publish", otelaws("SNS", "Publish", messaging__destination__name=TOPIC_ARN))
    assert arn.resources == (TOPIC_ARN,)
    # Python botocore (extensions/sns.py): "phone_number" or "unknown" when no topic is named
    for placeholder in ("phone_number", "unknown", "+15555550100"):
        values = otelaws("SNS", "Publish", messaging__destination__name=placeholder)
        assert one_call("SNS.Publish", values).resources == ()


def test_the_sqs_destination_name_is_the_queue() -> None:
    # JS v3 (services/sqs.ts): messaging.destination.name is the queue's name, url.full its URL
    call = one_call("SQS.ReceiveMessage", otelaws("SQS", "ReceiveMessage", messaging__destination__name="orders"))
    assert call.resources == ("arn:aws:sqs:eu-west-1:*:orders",)


def test_s3_copy_source_names_the_source_bucket() -> None:
    # semantic-conventions docs/object-stores/s3.md: aws.s3.copy_source is `bucket/key` (keys are not kept)
    values = otelaws("S3", "CopyObject", aws__s3__bucket="dest", aws__s3__copy_source="src-bucket/reports/a.csv")
    assert set(one_call("S3.CopyObject", values).resources) == {"arn:aws:s3:::dest", "arn:aws:s3:::src-bucket"}
    quoted = otelaws("S3", "CopyObject", aws__s3__copy_source="/src-bucket/a%20b.csv?versionId=3")
    assert one_call("S3.CopyObject", quoted).resources == ("arn:aws:s3:::src-bucket",)


def test_java_agent_stable_rpc_convention_names_the_call_only_in_the_span_name() -> None:
    """opentelemetry-java-instrumentation, RpcCommonAttributesExtractor with otel.semconv-stability.opt-in=rpc:
    rpc.system.name from AwsSdkRpcAttributesGetter ("aws-api"), no rpc.method (the getter has no
    getRpcMethod); the span is named `<Service>.<Operation>` (AwsSdkInstrumenterFactory.spanName)."""
    call = one_call("DynamoDb.PutItem", {"rpc.system.name": "aws-api", "aws.dynamodb.table_names": ["orders"]})
    assert (call.service, call.operation) == ("DynamoDB", "PutItem")
    # rpc/dup: both conventions: rpc.system and rpc.service, still no rpc.method
    dup = one_call("Sqs.SendMessage", {"rpc.system": "aws-api", "rpc.system.name": "aws-api", "rpc.service": "Sqs"})
    assert (dup.service, dup.operation) == ("SQS", "SendMessage")
    # Java's experimental attribute aws.lambda.function.arn (AwsExperimentalAttributes)
    arn = f"arn:aws:lambda:eu-west-1:{ACCOUNT}:function:resize"
    fn = one_call("Lambda.Invoke", {"rpc.system.name": "aws-api", "aws.lambda.function.arn": arn})
    assert fn.resources == (arn,)


def test_go_sdk_own_tracing_old_convention_with_its_error_code() -> None:
    """aws/smithy-go codegen ServiceGenerator.java (the Go v2 SDK's own spans, through smithyoteltracing):
    rpc.system, rpc.service (ServiceID), rpc.method, and on failure exception.* and api.error_code as span
    attributes."""
    values = {
        "rpc.system": "aws-api",
        "rpc.service": "DynamoDB",
        "rpc.method": "GetItem",
        "exception.type": "*smithy.GenericAPIError",
        "exception.message": "api error AccessDeniedException: not authorized to perform: dynamodb:GetItem",
        "api.error_code": "AccessDeniedException",
    }
    span = raw_span("DynamoDB.GetItem", values)
    span.status.code = span.status.STATUS_CODE_ERROR
    calls, unreadable = decoded(span)
    assert unreadable == {}
    assert (calls[0].operation, calls[0].error_code, calls[0].outcome) == ("GetItem", "AccessDeniedException", DENIED)
    assert calls[0].denied_actions == ("dynamodb:GetItem",)


def test_the_old_and_the_new_spelling_of_one_call_agree() -> None:
    old = {"rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": "GetObject", "aws.s3.bucket": "reports"}
    new = {"rpc.system.name": "aws-api", "rpc.method": "S3/GetObject", "aws.s3.bucket": "reports"}
    assert one_call("S3.GetObject", old) == one_call("S3.GetObject", new)


def test_aws_spans_in_a_form_it_cannot_read_are_counted_by_reason() -> None:
    spans = [
        raw_span("S3", {"rpc.system.name": "aws-api"}),  # neither a method nor a Service.Operation name
        raw_span("orders publish", {"rpc.system.name": "aws-api", "messaging.system": "aws_sqs"}),
        raw_span("x", {"rpc.system": "aws-api", "rpc.method": "S3/Get Object!"}),  # not a name
        raw_span("x", {"rpc.system.name": "aws-api", "rpc.method": "GetObject"}),  # no service anywhere
        raw_span("GET /", {"http.request.method": "GET"}),  # not AWS: ignored, not unreadable
    ]
    calls, unreadable = decoded(*spans)
    assert calls == []
    assert unreadable == {"no_operation": 2, "bad_name": 1, "no_service": 1}
    counters = OtlpCounters()
    counters.accepted(100, 0, 1, 4, unreadable=unreadable)
    counted = counters.as_dict()
    assert counted["spans_rejected"] == 4 and counted["rejected_reasons"] == unreadable
