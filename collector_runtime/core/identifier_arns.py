"""Resource ARNs from the identifiers a request or span names (a table name, a bucket and key, a queue URL,
a function name or ARN, ...): what the proxy and OTLP sources put in a record's `resources`. Pure.

An identifier that is an ARN is kept as it is, but for IAM's literal forms: whatever a name read from input
holds, `*`, `?` and `$` are written `${*}`, `${?}` and `${$}` (`wildcard.literal`), so a key `reports/*.csv`
is that one object, not a pattern (the collector's own wildcards, `*` for what is unknown and the
`-??????` suffix, stay wildcards). Otherwise its name binds a placeholder of the ARN formats
of the operation's IAM prefix: by the same name (`TableName`, `FunctionName`, `StreamName`), or through
the reviewed aliases below; every format whose names are all bound becomes an ARN, with the call's
partition, region and account (all but the id AWS gave the resource after its name: `stack/app/*`). A
queue URL carries its own region and account; one of another host (an endpoint override: a VPC endpoint's
name, LocalStack, moto) carries its account and name, and is in the call's region.

Names bind by more than their exact spelling (the same class of create operations and targets): a member
`<Placeholder>Name` (`AliasName` -> `${Alias}`), `Target<Placeholder>` (`TargetKeyId` -> `${KeyId}`), one
named like a placeholder in another case (`tableName`), and a generic `Name`/`name` the one placeholder of
the resource the operation acts on (`own`: Step Functions CreateStateMachine's `name` -> `${StateMachineName}`).
S3's `CopySource` (`bucket/key?versionId=...`, URL-encoded, or an access point's object ARN) names the object
read: it is returned marked `OTHER_RESOURCE` (see `other_resources`), the resource of the actions on
another resource than the request's target (CopyObject's s3:GetObject).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import NamedTuple

from .arns import ACCOUNT, ACCOUNT_ID, PARTITION, REGION, arn_format, partition_of
from .s3_buckets import copy_source_bucket, split_copy_source
from .sqs_queues import queue_arn
from .wildcard import literal

OTHER_RESOURCE = "other-resource:"  # marks a resource of a call's actions on another resource (a copy source)
UNREAD = "unread:"  # marks a resource type (`unread:ec2/launch-template`) a request may name where it went unread
GENERIC_NAMES = frozenset({"Name", "name"})
# Request members no model declares: a part of a member's value that needs an action of its own, named by the
# sources that read it (mapping/overrides.toml's `when` may name them).
COPY_SOURCE_VERSION = "CopySourceVersionId"  # `?versionId=` in S3's x-amz-copy-source: s3:GetObjectVersion
DERIVED_MEMBERS = frozenset({COPY_SOURCE_VERSION})
_S3_OBJECT_ARN = re.compile(rf"^arn:aws[a-z-]*:s3(?:-outposts)?:[a-z0-9-]+:{ACCOUNT_ID}:[^\s]+/object/.+$", re.DOTALL)

# botocore member (or span attribute kind) -> the placeholder it fills, where the names differ. Reviewed:
# each is how AWS names that identifier in the service's ARN format.
ALIASES: Mapping[str, str] = {
    "Bucket": "BucketName",  # S3: arn:...:s3:::${BucketName}
    "Key": "ObjectName",  # S3: arn:...:s3:::${BucketName}/${ObjectName}
    "Name": "ParameterNameWithoutLeadingSlash",  # SSM parameters (GetParameter, PutParameter: Name)
    "logGroupName": "LogGroupName",
    "logStreamName": "LogStreamName",
    "QueueName": "QueueName",
    "TopicName": "TopicName",
    "KeyId": "KeyId",
    "ServerCertificateName": "CertificateNameWithPath",  # IAM: server-certificate/${CertificateNameWithPath}
    "VirtualMFADeviceName": "MfaTokenIdWithPath",  # IAM: mfa/${MfaTokenIdWithPath}, a virtual device's name
    "repositoryName": "RepositoryName",
    "cluster": "ClusterName",
    "service": "ServiceName",  # ECS: service/${ClusterName}/${ServiceName} (a name, or an ARN kept as it is)
    "EventBusName": "EventBusName",
    "Rule": "RuleName",  # EventBridge PutTargets, RemoveTargets: rule/[${EventBusName}/]${RuleName}
    "WorkGroup": "WorkGroupName",  # Athena: workgroup/${WorkGroupName}
    "TableArn": "TableName",  # DynamoDB: the key shape of RequestItems (batch operations), a table's name or ARN
    "StateMachineName": "StateMachineName",
    "AutoScalingGroupName": "GroupFriendlyName",  # autoScalingGroup:${GroupId}:autoScalingGroupName/${...}
    # EC2 (no other prefix has these placeholders): security-group/${SecurityGroupId}, key-pair/${KeyPairName},
    # network-acl/${NaclId}, vpc-endpoint-service/${VpcEndpointServiceId}, dedicated-host/${DedicatedHostId}
    "GroupId": "SecurityGroupId",
    "KeyName": "KeyPairName",
    "NetworkAclId": "NaclId",
    "ServiceId": "VpcEndpointServiceId",
    "HostId": "DedicatedHostId",
    # RDS (and DocumentDB and Neptune, which share its API and IAM prefix): arn:...:rds:...:db:${DbInstanceName}
    "DBInstanceIdentifier": "DbInstanceName",
    "DBClusterIdentifier": "DbClusterInstanceName",
    "DBSnapshotIdentifier": "SnapshotName",
    "DBClusterSnapshotIdentifier": "ClusterSnapshotName",
    "DBParameterGroupName": "ParameterGroupName",
    "DBClusterParameterGroupName": "ClusterParameterGroupName",
    "DBSubnetGroupName": "SubnetGroupName",
    "DBSecurityGroupName": "SecurityGroupName",
}
# Members that name a second placeholder too, in another service's formats (only the operation's own IAM
# prefix's formats are filled, so the other placeholder never leaks into an unrelated service).
ALSO: Mapping[str, tuple[str, ...]] = {
    # Secrets Manager CreateSecret and SNS CreateTopic name their secret and topic `Name` (SSM's Name fills
    # its parameter ARN); no other service's formats have these placeholders alone.
    "Name": ("SecretId", "TopicName"),
}
# Placeholders whose ARN carries a random suffix AWS appends (Secrets Manager: name-AbCdEf): only a pattern
# matches.
SUFFIXED: Mapping[str, str] = {"SecretId": "-??????"}
# Members whose value is a part of the name they fill (`{}`): IAM CreateServiceLinkedRole names the service, and
# AWS creates its role as `role/aws-service-role/<service>/<a name the service picks>` (so AWS's managed
# policies grant it, with the condition iam:AWSServiceName).
WITHIN: Mapping[str, tuple[str, str]] = {"AWSServiceName": ("RoleNameWithPath", "aws-service-role/{}/*")}
# Members whose value joins two names with a separator: ECS's `taskDefinition` is `family[:revision]`, its ARN
# `task-definition/${TaskDefinitionFamilyName}:${TaskDefinitionRevisionNumber}` (no revision: the latest, `*`).
JOINED: Mapping[str, tuple[str, tuple[str, str]]] = {
    "taskDefinition": (":", ("TaskDefinitionFamilyName", "TaskDefinitionRevisionNumber"))
}
# IAM's `${RoleNameWithPath}` (user, group, instance profile, policy...) is the path and the name
# (`role/service-role/builder`), a request names the name alone (`RoleName`), unique in the account whatever its
# path: filled with a name, such a format gives the name at the root and under any path (`role/*/builder`).
WITH_PATH = "WithPath"
# The id AWS gives a resource it names after the request's name, last in its ARN after the type's own name
# (`stack/${StackName}/${Id}`, EKS's `nodegroup/${ClusterName}/${NodegroupName}/${UUID}`): no request names it,
# so a format with the rest bound is filled with `*` for it. Only after the type's own name: in
# `podidentityassociation/${ClusterName}/${UUID}` the id is the association's only name, and a cluster names none.
GIVEN_IDS = frozenset({"Id", "UUID", "Uuid"})
# Where AWS gives a resource its id elsewhere than last, after its name: the id beside the name (AWS's documented
# pattern for an Auto Scaling group is `autoScalingGroup:*:autoScalingGroupName/<name>`).
GIVEN_BEFORE: Mapping[str, str] = {"GroupFriendlyName": "GroupId", "LaunchConfigurationName": "Id"}
ID_SUFFIXES = ("Id", "Identifier")  # a member `<Type>Id` names a resource of that type
# A name a request may omit, for which AWS takes a documented default, by resource type: EventBridge Scheduler's
# group (botocore's documentation of CreateSchedule, GetSchedule, DeleteSchedule: "If you omit this, the default
# schedule group is used").
OMITTED: Mapping[str, Mapping[str, str]] = {"schedule": {"GroupName": "default"}}
QUALIFIER = "Qualifier"  # Lambda: the version or alias a call names beside its FunctionName
# SSM's and Route 53's tag operations name a resource by its type and id (`Parameter` and `/app/db`,
# `hostedzone` and `Z123`): the id is of that one type, never of every type whose format has a `${ResourceId}`.
# Without a `ResourceType`, a `ResourceId` fills nothing: the ARN formats' `${ResourceId}` is AWS's generic name
# for a resource's own id, the member most often another resource's (see `_placeholders_of`).
RESOURCE_TYPE, RESOURCE_ID = "ResourceType", "ResourceId"


class CopySource(NamedTuple):
    arn: str  # the object read (an S3 object ARN, or an access point's object ARN)
    versioned: bool  # `?versionId=`: the read needs s3:GetObjectVersion


def copy_source(value: str, region: str | None) -> CopySource | None:
    """S3's `x-amz-copy-source`: `bucket/key` or an access point's object ARN, URL-encoded, with an optional
    `?versionId=`; None when it is neither."""
    path, versioned = split_copy_source(value)
    if path.startswith("arn:"):
        return CopySource(literal(path), versioned) if _S3_OBJECT_ARN.match(path) else None
    arn = f"arn:{partition_of(region)}:s3:::{literal(path)}"
    return CopySource(arn, versioned) if copy_source_bucket(path) else None


def other_resources(resources: Iterable[str]) -> tuple[str, ...]:
    """The resources marked `OTHER_RESOURCE`, unmarked: what the actions on another resource act on."""
    return tuple(r[len(OTHER_RESOURCE) :] for r in resources if r.startswith(OTHER_RESOURCE))


def resource_arns(
    formats: Mapping[str, list[str]],
    identifiers: Mapping[str, str],
    *,
    region: str | None,
    account: str | None,
    own: str | None = None,
) -> tuple[str, ...]:
    """The ARNs the identifiers name, given the formats of the operation's IAM prefix (ActionMap.formats_of)
    and `own`, the one placeholder of the resource the operation acts on (if it has one)."""
    identifiers, found = _of_named_type(formats, _qualified(identifiers), region, account)
    found += _of_typed_ids(formats, identifiers, region, account)
    bound: dict[str, str] = {}
    placeholders: set[str] | None = None
    generic_last = sorted(identifiers.items(), key=lambda item: item[0] in GENERIC_NAMES)
    for member, value in generic_last:  # a generic name binds only what no specific member did
        if not value:
            continue
        if member == "CopySource":
            source = copy_source(value, region)
            found += [OTHER_RESOURCE + source.arn] if source else []
        elif value.startswith("arn:"):
            found.append(literal(value))
        elif member.lower().endswith("url") and (arn := queue_arn(value, region=region)):
            found.append(arn)
        elif member.endswith("KeyId") and value.startswith("alias/"):  # KMS: a key named by its alias
            bound["Alias"] = literal(value.removeprefix("alias/"))
        elif member in JOINED:
            separator, (first, second) = JOINED[member]
            name, _, rest = value.partition(separator)
            bound[first], bound[second] = literal(name), literal(rest) if rest else "*"
        else:
            if placeholders is None:
                placeholders = _placeholders(formats)
            for placeholder in _placeholders_of(member, placeholders, own):
                if member not in GENERIC_NAMES or placeholder not in bound:
                    bound[placeholder] = _bound_value(member, placeholder, value)
    if bound:
        found += _filled(formats, bound, region, account)
    return tuple(dict.fromkeys(found))


def unread_types(prefix: str, formats: Mapping[str, list[str]], names: Iterable[str]) -> tuple[str, ...]:
    """Markers (`unread:ec2/launch-template`) of the resource types whose outermost name one of `names` would
    fill: the members inside a structure or list a source did not read (RunInstances' `LaunchTemplate`
    holds a `LaunchTemplateId`). The scoper grants such a type with `*` names where it would otherwise leave
    an optional type out: never narrower than the call because a name went unread."""
    placeholders = _placeholders(formats)
    filled = {placeholder for name in names for placeholder in placeholders_filled_by(name, placeholders)}
    return tuple(
        f"{UNREAD}{prefix}/{kind}"
        for kind, texts in formats.items()
        if any((wanted := arn_format(text).names) and wanted[0] in filled for text in texts)
    )


def _qualified(identifiers: Mapping[str, str]) -> Mapping[str, str]:
    """Lambda's `Qualifier` (a version or alias) joined to the function it qualifies, `worker:live`: the call is
    authorized on the qualified ARN (AWS's change of 2022-01-24), not on `function:worker`."""
    qualifier, function = identifiers.get(QUALIFIER), identifiers.get("FunctionName")
    if not qualifier or not function:
        return identifiers
    qualified = {name: value for name, value in identifiers.items() if name != QUALIFIER}
    qualified["FunctionName"] = f"{function}:{qualifier}"
    return qualified


def _of_named_type(
    formats: Mapping[str, list[str]], identifiers: Mapping[str, str], region: str | None, account: str | None
) -> tuple[Mapping[str, str], list[str]]:
    """The other identifiers, and the ARNs of a `ResourceId` in the type its `ResourceType` names (compared
    without case or `-`: `ManagedInstance` is `managed-instance`); none when the prefix has no such type."""
    kind_name = identifiers.get(RESOURCE_TYPE)
    if kind_name is None:
        return identifiers, []
    rest = {name: value for name, value in identifiers.items() if name not in (RESOURCE_TYPE, RESOURCE_ID)}
    value, wanted = identifiers.get(RESOURCE_ID), _type_key(kind_name)
    found = []
    for kind, texts in formats.items():
        if value and _type_key(kind) == wanted:
            for text in texts:
                names = arn_format(text).names
                found += _filled({kind: [text]}, {names[0]: literal(value)}, region, account) if names else []
    return rest, found


def _of_typed_ids(
    formats: Mapping[str, list[str]], identifiers: Mapping[str, str], region: str | None, account: str | None
) -> list[str]:
    """The ARNs of members named `<Type>Id` where that type's ARN names its id by the generic `${Id}` alone
    (Route 53's `HostedZoneId`: `hostedzone/${Id}`; CloudFront's policies, WAF Classic's, Shield's)."""
    found: list[str] = []
    for member, value in identifiers.items():
        stem = next((member.removesuffix(s) for s in ID_SUFFIXES if member.endswith(s) and member != s), None)
        kind = _id_only_kinds(formats).get(_type_key(stem)) if stem and value and not value.startswith("arn:") else None
        if kind is not None:
            found += _filled({kind: formats[kind]}, {"Id": literal(value)}, region, account)
    return found


_ID_ONLY: dict[int, tuple[Mapping[str, list[str]], dict[str, str]]] = {}  # id(formats) -> (formats, its table)


def _id_only_kinds(formats: Mapping[str, list[str]]) -> dict[str, str]:
    """A prefix's types whose ARN names the resource by `${Id}` alone, by `_type_key`; remembered per formats
    object (a prefix's, which the action map keeps), holding it so that its id names no other."""
    entry = _ID_ONLY.get(id(formats))
    if entry is None or entry[0] is not formats:
        if len(_ID_ONLY) >= 1024:
            _ID_ONLY.clear()
        table = {
            _type_key(kind): kind
            for kind, texts in formats.items()
            if texts and all(arn_format(text).names == ("Id",) for text in texts)
        }
        entry = _ID_ONLY[id(formats)] = (formats, table)
    return entry[1]


def _type_key(name: str) -> str:
    return name.lower().replace("-", "").replace(" ", "").replace("_", "")


def listed_arns(
    formats: Mapping[str, list[str]],
    element: str,
    items: Iterable[str],
    *,
    region: str | None,
    account: str | None,
    context: Mapping[str, str] | None = None,
) -> tuple[str, ...]:
    """The ARNs a list member's names give, each as a member named like one element would (`InstanceId` for
    `InstanceIds`, `SecurityGroupId` for EC2's `Groups`: the source names the element), beside the request's
    other names (`context`: ECS DescribeServices' `services` are in its `cluster`)."""
    named = (
        resource_arns(formats, {**(context or {}), element: item}, region=region, account=account) for item in items
    )
    return tuple(dict.fromkeys(arn for arns in named for arn in arns))


def _placeholders(formats: Mapping[str, list[str]]) -> set[str]:
    """Every name placeholder of a prefix's ARN formats."""
    return {name for texts in formats.values() for text in texts for name in arn_format(text).names}


def _placeholders_of(member: str, placeholders: set[str], own: str | None) -> tuple[str, ...]:
    """The placeholders a member's value fills: by the reviewed aliases where the prefix's formats have their
    placeholder, else by the naming rules."""
    # A reviewed alias counts where the prefix's formats have its placeholder (Greengrass's `GroupId` is no EC2
    # security group); a generic name also names the operation's own resource (Glue's `Name` is no SSM parameter).
    within = WITHIN.get(member, (None,))[0]
    aliased = [p for p in (ALIASES.get(member), within, *ALSO.get(member, ())) if p is not None and p in placeholders]
    named = [*aliased, own] if own and member in GENERIC_NAMES else aliased
    if named:
        return tuple(dict.fromkeys(named))
    # A `ResourceId` is the resource a call is about in its own service's terms (Application Auto Scaling's
    # `service/prod/web`, a VPC), never the `${ResourceId}` AWS gives another (a scalable target): it fills nothing.
    if member in placeholders or member == RESOURCE_ID:
        return (member,) if member != RESOURCE_ID else ()
    if member + WITH_PATH in placeholders:  # RoleName -> RoleNameWithPath
        return (member + WITH_PATH,)
    if member in GENERIC_NAMES:
        return (own,) if own else ()
    for candidate in (member.removesuffix("Name"), member.removeprefix("Target"), member[:1].upper() + member[1:]):
        if candidate != member and candidate in placeholders:
            return (candidate,)
    return (member,)


def _bound_value(member: str, placeholder: str, value: str) -> str:
    if placeholder == "Alias":
        return literal(value.removeprefix("alias/"))
    if member in WITHIN:
        return WITHIN[member][1].format(literal(value))
    return literal(value) + SUFFIXED.get(placeholder, "")


def _filled(
    formats: Mapping[str, list[str]], bound: dict[str, str], region: str | None, account: str | None
) -> list[str]:
    """Every format whose named placeholders are all bound but for the id AWS gave the resource and a name the
    request omitted for AWS's default (and that needs a region or account only where the call has one)."""
    location = {PARTITION: partition_of(region), REGION: region or "*", ACCOUNT: account or "*"}
    filled = []
    for kind, texts in formats.items():
        omitted = OMITTED.get(kind, {})
        for text in texts:
            names = arn_format(text).names
            unbound = {name for name in names if name not in bound and name not in omitted}
            if any(name in bound for name in names) and unbound <= _given_ids(kind, names):
                values = {n: _value(n, bound[n]) if n in bound else omitted.get(n, "*") for n in names}
                for each in (values, *_under_any_path(values)):
                    filled.append(arn_format(text).fill(location[PARTITION], location[REGION], location[ACCOUNT], each))
    return filled


def _given_ids(kind: str, names: tuple[str, ...]) -> set[str]:
    """The names of a format that are the id AWS gave the resource the request names: last after the type's own
    name (`stack/${StackName}/${Id}`) or after a name of the same stem (`${TargetGroupName}/${TargetGroupId}`),
    or beside the name as `GIVEN_BEFORE` says."""
    given = {GIVEN_BEFORE[name] for name in names if name in GIVEN_BEFORE}
    if len(names) >= 2 and names[-2].endswith("Name"):
        stem, last = names[-2].removesuffix("Name"), names[-1]
        if (last in GIVEN_IDS and _type_key(stem) == _type_key(kind)) or last in {stem + "Id", stem + "UUID"}:
            given.add(last)
    return given


def _under_any_path(values: dict[str, str]) -> list[dict[str, str]]:
    """The values again with a name (no `/`) filling a `...WithPath` placeholder under any path (`*/builder`)."""
    return [
        {**values, name: "*/" + value}
        for name, value in values.items()
        if name.endswith(WITH_PATH) and "/" not in value
    ]


def _value(placeholder: str, value: str) -> str:
    return value.lstrip("/") if placeholder.endswith("WithoutLeadingSlash") else value


def placeholders_filled_by(member: str, placeholders: set[str], own: str | None = None) -> tuple[str, ...]:
    """The placeholders a request member's (non-ARN) value fills, by the rules `resource_arns` applies."""
    if member == "CopySource":
        return ("BucketName",)
    if member.endswith("KeyId") and "Alias" in placeholders:  # a key id may name the key by its alias
        return (*_placeholders_of(member, placeholders, own), "Alias")
    return _placeholders_of(member, placeholders, own)
