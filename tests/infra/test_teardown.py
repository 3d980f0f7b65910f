"""What `cdk destroy --all` leaves: every log group expires and goes with its stack (none is left for Lambda to
create on first use)."""

from __future__ import annotations

import pytest

from tests.infra.synth import VARIANTS, SynthesizedApp, Variants

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
