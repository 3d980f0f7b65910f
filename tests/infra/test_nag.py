"""cdk-nag's AwsSolutions checks: no unacknowledged finding in any variant, and the acknowledged ones are
exactly the reviewed list below (a new acknowledgment fails this test until it is added here)."""

from __future__ import annotations

import pytest
from cdk_nag import AwsSolutionsChecks

from stacks.app_builder import COLLECTOR_STACK, DEMO_STACK, NETWORK_STACK, STORAGE_STACK
from tests.infra.synth import VARIANTS, SynthesizedApp, Variants, acknowledgments, without_logical_id_hashes

pytestmark = pytest.mark.slow

NAT_INSTANCE = f"{NETWORK_STACK}/Network/Vpc/publicSubnet1/NatInstance"
EC2 = f"{COLLECTOR_STACK}/Ec2"
FARGATE = f"{COLLECTOR_STACK}/Fargate"
ANY_RESOURCE = "Annotation::AwsSolutions-IAM5[Resource::*]"
PARAMETER_ARN = "arn:<AWS::Partition>:ssm:<AWS::Region>:<AWS::AccountId>:parameter"


def publishing(s3_prefix: str, ssm_path: str) -> set[tuple[str, str]]:
    """The collector's publishing policy, and the teardown's cleanup of what it published in SSM."""
    policy = f"{STORAGE_STACK}/Publishing/Policy"
    runtime_parameters = f"Annotation::AwsSolutions-IAM5[Resource::{PARAMETER_ARN}{ssm_path}/policies/*]"
    return {
        (policy, f"Annotation::AwsSolutions-IAM5[Resource::<ResultsBucket.Arn>/{s3_prefix}*]"),
        (policy, runtime_parameters),
        (f"{STORAGE_STACK}/RuntimeParameters/Role", runtime_parameters),
    }


def instance_findings(path: str) -> set[tuple[str, str]]:
    return {
        (path, "CloudFormation-Validate::E1152"),
        (path, "Annotation::AwsSolutions-EC28"),
        (path, "Annotation::AwsSolutions-EC29"),
    }


# Acknowledgments CDK itself records on what it generates (not ours, but listed so nothing hides among them).
CDK_OWN = {
    (NETWORK_STACK, "CloudFormation-Validate::W3010"),
    (f"{NETWORK_STACK}/Network/Vpc/FlowLog", "CloudFormation-Validate::F3002"),
    (f"{NETWORK_STACK}/Network/Vpc/FlowLog", "CloudFormation-Validate::F3003"),
}
COMMON = CDK_OWN | {
    (f"{STORAGE_STACK}/Results/AccessLogs", "Annotation::AwsSolutions-S1"),
    (f"{DEMO_STACK}/Demo/Role", ANY_RESOURCE),
    (f"{DEMO_STACK}/Demo/Function", "Annotation::AwsSolutions-L1"),
    (f"{DEMO_STACK}/NodeDemo/Role", ANY_RESOURCE),
    (f"{DEMO_STACK}/NodeDemo/Function", "Annotation::AwsSolutions-L1"),
}
EC2_COLLECTOR = instance_findings(f"{EC2}/Instance") | {(f"{EC2}/Role", ANY_RESOURCE)}
FARGATE_COLLECTOR = {
    (f"{FARGATE}/TaskRole", ANY_RESOURCE),
    (f"{FARGATE}/TaskDefinition/ExecutionRole", ANY_RESOURCE),
    (f"{FARGATE}/TaskDefinition", "Annotation::AwsSolutions-ECS2"),
    (f"{FARGATE}/Cluster", "Annotation::AwsSolutions-ECS4"),
}
DEFAULT_PUBLISHING = publishing("collector/", "/csm-collector")
ALERTING = {(f"{COLLECTOR_STACK}/Alerting/Topic", "Annotation::AwsSolutions-SNS2")}
DRIFT_READS = {
    (
        f"{COLLECTOR_STACK}/Alerting/Policy",
        "Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::aws:policy/*]",
    ),
    (
        f"{COLLECTOR_STACK}/Alerting/Policy",
        "Annotation::AwsSolutions-IAM5[Resource::arn:<AWS::Partition>:iam::<AWS::AccountId>:policy/*]",
    ),
}
EXPECTED_ACKNOWLEDGMENTS = {
    "ec2": COMMON | DEFAULT_PUBLISHING | instance_findings(NAT_INSTANCE) | EC2_COLLECTOR,
    "fargate": COMMON | DEFAULT_PUBLISHING | instance_findings(NAT_INSTANCE) | FARGATE_COLLECTOR,
    "ec2-custom": COMMON | publishing("team/csm/", "/team/csm") | EC2_COLLECTOR,
    "fargate-endpoints": COMMON | DEFAULT_PUBLISHING | FARGATE_COLLECTOR,
    "ec2-endpoints": COMMON | DEFAULT_PUBLISHING | EC2_COLLECTOR,
    "fargate-proxy": COMMON
    | DEFAULT_PUBLISHING
    | instance_findings(NAT_INSTANCE)
    | FARGATE_COLLECTOR
    | {(f"{FARGATE}/Proxy/CaKey", "Annotation::AwsSolutions-SMG4")},
    "ec2-alerts": COMMON
    | DEFAULT_PUBLISHING
    | instance_findings(NAT_INSTANCE)
    | EC2_COLLECTOR
    | ALERTING
    | DRIFT_READS,
    "fargate-proxy-alerts": COMMON
    | DEFAULT_PUBLISHING
    | instance_findings(NAT_INSTANCE)
    | FARGATE_COLLECTOR
    | {(f"{FARGATE}/Proxy/CaKey", "Annotation::AwsSolutions-SMG4")}
    | ALERTING,
}


@pytest.fixture(params=sorted(VARIANTS), scope="module")
def variant(request: pytest.FixtureRequest, variants: Variants) -> tuple[str, SynthesizedApp]:
    return request.param, variants.get(request.param)


def test_no_unacknowledged_aws_solutions_findings(variant: tuple[str, SynthesizedApp]) -> None:
    _, app = variant
    report = AwsSolutionsChecks().validate_scope(app.app)
    findings = [(v.rule_name, [r.construct_path for r in v.violating_resources]) for v in report.violations]
    assert findings == []
    assert report.success


def test_the_acknowledged_findings_are_exactly_the_reviewed_list(variant: tuple[str, SynthesizedApp]) -> None:
    name, app = variant
    found = {
        (path, without_logical_id_hashes(rule_id))
        for path, rules in acknowledgments(app.app).items()
        for rule_id in rules
    }
    assert found == EXPECTED_ACKNOWLEDGMENTS[name]


def test_ours_sit_on_one_resource_each_with_a_reason(variant: tuple[str, SynthesizedApp]) -> None:
    _, app = variant
    stack_names = set(app.templates)
    for path, rules in acknowledgments(app.app).items():
        for rule_id, reason in rules.items():
            if (path, rule_id) in CDK_OWN:
                continue
            assert path not in stack_names, f"{rule_id} acknowledged for the whole stack {path}"
            assert len(reason) > 30, f"{path}: {rule_id} needs a real reason, got {reason!r}"
