"""The allow-list of identifier values (identifier_allowlist.py), rule by rule, and against botocore's models."""

from __future__ import annotations

import botocore.session
import pytest

from collector_runtime.sources.proxy.identifier_allowlist import identifiers_of, is_identifier, is_secret


@pytest.mark.parametrize(
    ("name", "value", "from_uri"),
    [
        ("Bucket", "my-bucket", False),  # an explicit name
        ("Key", "a/b.txt", False),
        ("TableName", "orders", False),  # ...Name
        ("roleArn", "x", False),  # ...Arn (camel case)
        ("TopicARN", "x", False),  # ...ARN
        ("KmsKeyId", "x", False),  # ...Id
        ("QueueUrl", "https://sqs.eu-west-1.amazonaws.com/1/q", False),  # ...Url
        ("DBClusterIdentifier", "x", False),  # ...Identifier
        ("Target", "arn:aws:sns:eu-west-1:123456789012:t", False),  # any name, ARN value
        ("Anything", "x", True),  # a URI label
    ],
)
def test_identifier_by_name_value_or_location(name: str, value: str, from_uri: bool) -> None:
    assert is_identifier(name, value, from_uri=from_uri)
    assert not is_secret(name, value)


@pytest.mark.parametrize(
    ("name", "value"),
    [("Value", "v"), ("Body", "b"), ("Message", "m"), ("MessageBody", "m"), ("Description", "d"), ("Policy", "{}")],
)
def test_not_identifiers(name: str, value: str) -> None:
    assert not is_identifier(name, value)


@pytest.mark.parametrize(
    ("name", "value", "sensitive"),
    [
        ("Name", "x", True),  # the model marks it sensitive
        ("NextToken", "x", False),  # token
        ("ClientRequestToken", "x", False),
        ("SecretString", "x", False),  # secret, other than SecretId/SecretArn/SecretName
        ("ClientSecret", "x", False),
        ("MasterUserPassword", "x", False),  # password
        ("AccessKeyId", "AKIAIOSFODNN7EXAMPLE", False),  # never kept, and a key-shaped value
        ("ExternalId", "x", False),
        ("FirstName", "Ada", False),  # personal
        ("UserName", "ASIAY34FZKBOKMUTVV7A", False),  # the value is an access key id
        ("TemplateURL", "https://b.s3.amazonaws.com/t?X-Amz-Signature=abc", False),  # presigned
        ("FunctionName", "f" * 2_049, False),  # too long
    ],
)
def test_secrets_never_kept(name: str, value: str, sensitive: bool) -> None:
    assert is_secret(name, value, sensitive=sensitive)


@pytest.mark.parametrize("name", ["SecretId", "SecretArn", "SecretName"])
def test_secret_identifiers_are_kept(name: str) -> None:
    assert not is_secret(name, "my-secret")


@pytest.fixture(scope="module")
def session() -> botocore.session.Session:
    return botocore.session.get_session()


@pytest.mark.parametrize(
    ("service", "operation", "values", "kept"),
    [
        ("ssm", "PutParameter", {"Name": "/app/db", "Value": "hunter2", "Type": "SecureString"}, {"Name": "/app/db"}),
        (
            "secretsmanager",
            "CreateSecret",
            {"Name": "db", "SecretString": "hunter2", "KmsKeyId": "alias/k"},
            {"Name": "db", "KmsKeyId": "alias/k"},
        ),
        ("secretsmanager", "PutSecretValue", {"SecretId": "db", "SecretString": "hunter2"}, {"SecretId": "db"}),
        ("sqs", "SendMessage", {"QueueUrl": "https://q", "MessageBody": "hunter2"}, {"QueueUrl": "https://q"}),
        ("sns", "Publish", {"TopicArn": "arn:aws:sns:eu-west-1:1:t", "Message": "hunter2", "PhoneNumber": "+1"}, None),
        ("iam", "DeleteAccessKey", {"UserName": "u", "AccessKeyId": "AKIAIOSFODNN7EXAMPLE"}, {"UserName": "u"}),
        ("cognito-idp", "AdminGetUser", {"UserPoolId": "p", "Username": "ada"}, {"UserPoolId": "p"}),
        ("sts", "AssumeRole", {"RoleArn": "arn:aws:iam::1:role/r", "ExternalId": "e", "TokenCode": "1"}, None),
    ],
)
def test_model_members(
    session: botocore.session.Session,
    service: str,
    operation: str,
    values: dict[str, str],
    kept: dict[str, str] | None,
) -> None:
    model = session.get_service_model(service).operation_model(operation)
    expected = kept if kept is not None else {k: v for k, v in values.items() if k.endswith("Arn")}
    assert identifiers_of(model, values, frozenset()) == expected


def test_no_sensitive_member_of_any_model_is_ever_kept(session: botocore.session.Session) -> None:
    """Over every input member of every operation that botocore marks sensitive: rule 2 drops it."""
    checked = 0
    for service in session.get_available_services():
        model = session.get_service_model(service)
        for name in model.operation_names:
            shape = model.operation_model(name).input_shape
            if shape is None:
                continue
            sensitive = {
                m: "x" for m, s in shape.members.items() if s.type_name == "string" and s.metadata.get("sensitive")
            }
            if sensitive:
                checked += len(sensitive)
                uri = frozenset(sensitive)  # even as URI labels
                assert identifiers_of(model.operation_model(name), sensitive, uri) == {}, f"{service}.{name}"
    assert checked > 500
