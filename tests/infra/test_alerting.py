"""The alerting resources (context alerts=true): a bus, a rule to an SNS topic with the e-mail subscription,
the collector allowed events:PutEvents on that bus only and the IAM reads drift needs on the mapped roles
only, and the collector told where (its environment)."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stacks.config import CollectorConfig, ConfigError
from tests.infra.synth import Variants

pytestmark = pytest.mark.slow
ROLES = ["arn:aws:iam::123456789012:role/b/billing", "arn:aws:iam::123456789012:role/orders"]


def only(resources: dict[str, dict[str, Any]]) -> tuple[str, dict[str, Any]]:
    assert len(resources) == 1, sorted(resources)
    return next(iter(resources.items()))


def test_the_bus_rule_topic_and_subscription(variants: Variants) -> None:
    app = variants.get("ec2-alerts")
    stack = app.stacks.collector.stack_name
    bus_id, _ = only(app.resources(stack, "AWS::Events::EventBus"))
    _, rule = only(app.resources(stack, "AWS::Events::Rule"))
    topic_id, _ = only(app.resources(stack, "AWS::SNS::Topic"))
    assert rule["Properties"]["EventBusName"] == {"Ref": bus_id}
    assert rule["Properties"]["EventPattern"] == {"source": ["csm-collector"]}
    assert [t["Arn"] for t in rule["Properties"]["Targets"]] == [{"Ref": topic_id}]
    _, topic_policy = only(app.resources(stack, "AWS::SNS::TopicPolicy"))
    statements = topic_policy["Properties"]["PolicyDocument"]["Statement"]
    publish = [s for s in statements if s["Action"] == "sns:Publish" and s["Effect"] == "Allow"]
    assert [s["Principal"] for s in publish] == [{"Service": "events.amazonaws.com"}]
    denied_plain_http = [s for s in statements if s["Effect"] == "Deny"]
    assert denied_plain_http[0]["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    _, subscription = only(app.resources(stack, "AWS::SNS::Subscription"))
    assert subscription["Properties"]["Protocol"] == "email"
    assert subscription["Properties"]["Endpoint"] == "ops@example.com"


def test_the_collector_may_put_events_on_its_bus_and_read_the_mapped_roles_only(variants: Variants) -> None:
    app = variants.get("ec2-alerts")
    stack = app.stacks.collector.stack_name
    bus_id, _ = only(app.resources(stack, "AWS::Events::EventBus"))
    _, policy = only(
        {k: v for k, v in app.resources(stack, "AWS::IAM::ManagedPolicy").items() if k.startswith("Alerting")}
    )
    statements = policy["Properties"]["PolicyDocument"]["Statement"]
    by_action = {
        json.dumps(sorted(s["Action"]) if isinstance(s["Action"], list) else s["Action"]): s["Resource"]
        for s in statements
    }
    assert all(s["Effect"] == "Allow" and "Condition" not in s for s in statements)
    assert by_action['"events:PutEvents"'] == {"Fn::GetAtt": [bus_id, "Arn"]}
    reads = json.dumps(
        sorted(["iam:GetRole", "iam:ListRolePolicies", "iam:GetRolePolicy", "iam:ListAttachedRolePolicies"])
    )
    assert sorted(by_action[reads]) == ROLES
    assert len(statements) == 3  # and the policy documents' reads (GetPolicy, GetPolicyVersion)
    (role_id,) = [k for k in app.resources(stack, "AWS::IAM::Role") if k.startswith("Ec2Role")]
    assert policy["Properties"]["Roles"] == [{"Ref": role_id}]
    user_data = json.dumps(app.resources(stack, "AWS::EC2::Instance"))
    assert "CSM_COLLECTOR_ALERTS_EVENT_BUS=" in user_data and bus_id in user_data
    assert f"CSM_COLLECTOR_ROLE_MAP=orders={ROLES[1]} billing={ROLES[0]}" in user_data


def test_fargate_containers_are_told_the_bus(variants: Variants) -> None:
    app = variants.get("fargate-proxy-alerts")
    stack = app.stacks.collector.stack_name
    _, task = only(app.resources(stack, "AWS::ECS::TaskDefinition"))
    for container in task["Properties"]["ContainerDefinitions"]:
        names = {item["Name"] for item in container["Environment"]}
        assert "CSM_COLLECTOR_ALERTS_EVENT_BUS" in names, container["Name"]
    policy = json.dumps(app.resources(stack, "AWS::IAM::ManagedPolicy"))
    assert "iam:GetRole" not in policy  # no role mapped: no IAM read at all


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"alerts_email": "ops@example.com"}, "need alerts=true"),
        ({"alerts": True, "alerts_email": "not-an-address"}, "alertsEmail"),
        ({"alerts": True, "alerts_role_map": "orders=arn:aws:lambda:eu-west-1:123456789012:function:f"}, "ROLE_ARN"),
        ({"alerts": True, "alerts_role_map": "orders"}, "alertsRoleMap"),
    ],
)
def test_bad_alerting_context_is_refused(fields: dict[str, Any], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        CollectorConfig(**fields)


def test_the_proxy_archives_where_the_athena_table_reads(variants: Variants) -> None:
    app = variants.get("fargate-proxy-alerts")
    _, task = only(app.resources(app.stacks.collector.stack_name, "AWS::ECS::TaskDefinition"))
    (proxy,) = [c for c in task["Properties"]["ContainerDefinitions"] if "proxy" in c["Name"].lower()]
    environment = {item["Name"]: item["Value"] for item in proxy["Environment"]}
    assert environment["CSM_COLLECTOR_ARCHIVE_S3_PREFIX"] == app.config.archive_prefix == "collector/archive/"
    assert environment["CSM_COLLECTOR_COLLECTOR_ID"] == "proxy"
    _, table = only(app.resources(app.stacks.storage.stack_name, "AWS::Glue::Table"))
    template = json.dumps(table["Properties"]["TableInput"]["Parameters"]["storage.location.template"])
    assert f"/{app.config.archive_prefix}dt=${{dt}}/" in template
