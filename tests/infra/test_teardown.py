"""What `cdk destroy --all` leaves: every log group expires and goes with its stack (none is left for Lambda to
create on first use), and the storage stack deletes the SSM parameters the collector created at run time."""

from __future__ import annotations

from typing import Any

import pytest

from stacks.app_builder import STORAGE_STACK
from stacks.parameter_cleanup import RESOURCE_TYPE
from tests.infra.synth import VARIANTS, SynthesizedApp, Variants, render_text

pytestmark = pytest.mark.slow


@pytest.fixture(params=sorted(VARIANTS), scope="module")
def variant(request: pytest.FixtureRequest, variants: Variants) -> SynthesizedApp:
    return variants.get(request.param)


def test_every_log_group_expires_and_is_deleted_with_its_stack(variant: SynthesizedApp) -> None:
    log_groups = [(name, body) for _, name, body in variant.all_resources() if body["Type"] == "AWS::Logs::LogGroup"]
    assert log_groups
    for name, body in log_groups:
        assert body["Properties"].get("RetentionInDays", 0) > 0, name
        assert body["DeletionPolicy"] == "Delete", name


def test_every_function_logs_to_a_log_group_of_its_stack(variant: SynthesizedApp) -> None:
    """Otherwise Lambda creates /aws/lambda/<name> on first use: no retention, and never deleted."""
    for stack_name, name, body in variant.all_resources():
        if body["Type"] != "AWS::Lambda::Function":
            continue
        reference = body["Properties"].get("LoggingConfig", {}).get("LogGroup", {})
        assert "Ref" in reference, f"{stack_name}/{name} logs to a log group Lambda would create"
        assert variant.templates[stack_name]["Resources"][reference["Ref"]]["Type"] == "AWS::Logs::LogGroup"


def cleanup(app: SynthesizedApp) -> tuple[dict[str, Any], dict[str, Any], list[dict[str, Any]]]:
    """The custom resource, its function and its role's statements."""
    (_, resource) = app.only_resource(STORAGE_STACK, RESOURCE_TYPE)
    function_id = resource["Properties"]["ServiceToken"]["Fn::GetAtt"][0]
    function = app.templates[STORAGE_STACK]["Resources"][function_id]
    role_id = function["Properties"]["Role"]["Fn::GetAtt"][0]
    role = app.templates[STORAGE_STACK]["Resources"][role_id]["Properties"]
    assert "ManagedPolicyArns" not in role
    (policy,) = role["Policies"]
    return resource, function, policy["PolicyDocument"]["Statement"]


def test_deleting_the_storage_stack_deletes_the_runtime_parameters_under_the_policies_path(
    ec2: SynthesizedApp, ec2_custom: SynthesizedApp
) -> None:
    for app, path in ((ec2, "/csm-collector/policies"), (ec2_custom, "/team/csm/policies")):
        resource, function, _ = cleanup(app)
        assert resource["Properties"]["Path"] == path
        assert resource["DeletionPolicy"] == "Delete"
        assert function["Properties"]["Handler"] == "handler.handler"
        assert "VpcConfig" not in function["Properties"]


def test_the_cleanup_may_list_and_delete_under_that_path_only(ec2_custom: SynthesizedApp) -> None:
    _, _, statements = cleanup(ec2_custom)
    by_sid = {statement["Sid"]: statement for statement in statements}
    assert set(by_sid) == {"ListRuntimeParameters", "DeleteRuntimeParameters", "IsTheStackBeingDeleted", "WriteOwnLog"}
    listed = [render_text(resource) for resource in by_sid["ListRuntimeParameters"]["Resource"]]
    assert [arn.split(":parameter")[1] for arn in listed] == ["/team/csm/policies", "/team/csm/policies/*"]
    assert by_sid["DeleteRuntimeParameters"]["Action"] == "ssm:DeleteParameters"
    assert render_text(by_sid["DeleteRuntimeParameters"]["Resource"]).endswith(":parameter/team/csm/policies/*")
    assert by_sid["IsTheStackBeingDeleted"] == {
        "Sid": "IsTheStackBeingDeleted",
        "Action": "cloudformation:DescribeStacks",
        "Effect": "Allow",
        "Resource": {"Ref": "AWS::StackId"},
    }
    assert sorted(by_sid["WriteOwnLog"]["Action"]) == ["logs:CreateLogStream", "logs:PutLogEvents"]


def test_the_cdk_provider_that_restricts_the_default_security_group_gets_an_expiring_log_group(
    ec2: SynthesizedApp,
) -> None:
    handlers = [
        body
        for name, body in ec2.templates["CsmCollectorNetwork"]["Resources"].items()
        if body["Type"] == "AWS::Lambda::Function" and name.startswith("CustomVpcRestrictDefaultSG")
    ]
    (handler,) = handlers
    log_group = ec2.templates["CsmCollectorNetwork"]["Resources"][
        handler["Properties"]["LoggingConfig"]["LogGroup"]["Ref"]
    ]
    assert log_group["Properties"]["RetentionInDays"] == 7


def test_the_cleanup_function_ships_only_its_handler(ec2: SynthesizedApp) -> None:
    _, function, _ = cleanup(ec2)
    key = function["Properties"]["Code"]["S3Key"]
    (asset,) = [
        asset
        for asset in ec2.asset_manifest(STORAGE_STACK)["files"].values()
        if any(destination["objectKey"] == key for destination in asset["destinations"].values())
    ]
    staged = ec2.outdir / asset["source"]["path"]
    assert sorted(path.name for path in staged.iterdir()) == ["handler.py"]
