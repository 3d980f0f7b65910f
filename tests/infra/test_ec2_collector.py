"""The EC2 collector: a Graviton instance in a private subnet, IMDSv2 only, encrypted volume, no key pair,
Session Manager access, the collector under systemd, and a role scoped to exactly what it does."""

from __future__ import annotations

import json
from typing import Any

import pytest
from aws_cdk.assertions import Match

from stacks.app_builder import COLLECTOR_STACK, NETWORK_STACK, STORAGE_STACK
from stacks.collector_ready import URL_PLACEHOLDER, fingerprint
from stacks.ec2_collector import Ec2Collector
from tests.infra.synth import SynthesizedApp, render_text, value_after

pytestmark = pytest.mark.slow


def instance(app: SynthesizedApp) -> tuple[str, dict[str, Any]]:
    return app.only_resource(COLLECTOR_STACK, "AWS::EC2::Instance")


def user_data(app: SynthesizedApp) -> str:
    return render_text(instance(app)[1]["Properties"]["UserData"])


def ec2_collector(app: SynthesizedApp) -> Ec2Collector:
    collector = app.stacks.collector.node.find_child("Ec2")
    assert isinstance(collector, Ec2Collector)
    return collector


def role_policies(app: SynthesizedApp) -> dict[str, list[dict[str, Any]]]:
    _, role = app.only_resource(COLLECTOR_STACK, "AWS::IAM::Role")
    return {policy["PolicyName"]: policy["PolicyDocument"]["Statement"] for policy in role["Properties"]["Policies"]}


def test_a_small_graviton_instance_with_the_al2023_image(ec2: SynthesizedApp, ec2_custom: SynthesizedApp) -> None:
    properties = instance(ec2)[1]["Properties"]
    assert properties["InstanceType"] == "t4g.micro"
    assert properties["ImageId"] == "resolve:ssm:/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-arm64"
    assert properties["CreditSpecification"] == {"CPUCredits": "standard"}
    custom = instance(ec2_custom)[1]["Properties"]
    assert custom["InstanceType"] == "m7g.medium"
    assert "CreditSpecification" not in custom


def test_imdsv2_is_required(ec2: SynthesizedApp) -> None:
    template = ec2.template(COLLECTOR_STACK)
    template.has_resource_properties(
        "AWS::EC2::LaunchTemplate", {"LaunchTemplateData": {"MetadataOptions": {"HttpTokens": "required"}}}
    )
    launch_template = instance(ec2)[1]["Properties"]["LaunchTemplate"]
    (template_id, _) = ec2.only_resource(COLLECTOR_STACK, "AWS::EC2::LaunchTemplate")
    assert launch_template["Version"] == {"Fn::GetAtt": [template_id, "LatestVersionNumber"]}


def test_the_root_volume_is_encrypted(ec2: SynthesizedApp) -> None:
    assert instance(ec2)[1]["Properties"]["BlockDeviceMappings"] == [
        {
            "DeviceName": "/dev/xvda",
            "Ebs": {"DeleteOnTermination": True, "Encrypted": True, "VolumeSize": 8, "VolumeType": "gp3"},
        }
    ]


def test_no_key_pair_and_no_public_address(ec2: SynthesizedApp) -> None:
    properties = instance(ec2)[1]["Properties"]
    assert "KeyName" not in properties
    (interface,) = properties["NetworkInterfaces"]
    assert interface["AssociatePublicIpAddress"] is False
    ec2.template(COLLECTOR_STACK).resource_count_is("AWS::EC2::KeyPair", 0)


def test_it_sits_in_a_private_subnet(ec2: SynthesizedApp) -> None:
    (interface,) = instance(ec2)[1]["Properties"]["NetworkInterfaces"]
    subnet = ec2.resolve(interface["SubnetId"])
    subnet_properties = ec2.templates[NETWORK_STACK]["Resources"][subnet["Ref"]]["Properties"]
    assert subnet_properties["MapPublicIpOnLaunch"] is False
    assert {"Key": "aws-cdk:subnet-type", "Value": "Private"} in subnet_properties["Tags"]


def test_the_user_data_runs_the_collector_under_systemd_at_every_boot(ec2: SynthesizedApp) -> None:
    text = user_data(ec2)
    assert "cloud_final_modules:\n- [scripts-user, always]" in text
    assert "dnf install -y python3.11 amazon-cloudwatch-agent && break" in text
    assert (
        "ExecStart=/usr/bin/python3.11 -m collector_runtime listen --host 0.0.0.0 --port 31000 "
        "--otlp-port 4318 --otlp-host 0.0.0.0 --output-dir /var/lib/csm-collector --quiet"
    ) in text
    assert "Restart=on-failure" in text
    assert "systemctl restart csm-collector" in text
    assert "aws s3 cp 's3://" in text


def test_the_user_data_hands_the_collector_its_publishing_settings(ec2: SynthesizedApp) -> None:
    raw = instance(ec2)[1]["Properties"]["UserData"]
    assert ec2.resolve(value_after(raw, 'Environment="CSM_COLLECTOR_S3_BUCKET=')) == {"Ref": ec2.results_bucket_id()}
    text = user_data(ec2)
    assert 'Environment="CSM_COLLECTOR_S3_PREFIX=collector/"' in text
    assert 'Environment="CSM_COLLECTOR_SSM_PREFIX=/csm-collector"' in text
    assert 'Environment="CSM_COLLECTOR_ARCHIVE=true"' in text
    assert ec2.resolve(value_after(raw, 'Environment="AWS_REGION=')) == {"Ref": "AWS::Region"}


def test_the_port_follows_the_context(ec2_custom: SynthesizedApp) -> None:
    assert "--port 31001 " in user_data(ec2_custom)


def test_code_updates_restart_the_instance_instead_of_replacing_it(ec2: SynthesizedApp) -> None:
    """With user-data replacement on, CDK would rename the instance after a hash of its user data."""
    cfn_instance = ec2.stacks.collector.node.find_child("Ec2").node.find_child("Instance").node.default_child
    instance_id, _ = instance(ec2)
    assert instance_id == ec2.stacks.collector.get_logical_id(cfn_instance)


def test_the_role_allows_session_manager_its_package_its_logs_and_its_results(ec2: SynthesizedApp) -> None:
    policies = role_policies(ec2)
    assert set(policies) == {"SessionManager", "ReadPackage", "WriteLogs"}
    (session,) = policies["SessionManager"]
    assert sorted(session["Action"]) == [
        "ssm:UpdateInstanceInformation",
        "ssmmessages:CreateControlChannel",
        "ssmmessages:CreateDataChannel",
        "ssmmessages:OpenControlChannel",
        "ssmmessages:OpenDataChannel",
    ]
    (package,) = policies["ReadPackage"]
    assert package["Action"] == "s3:GetObject"
    assert render_text(package["Resource"]).endswith(".zip")
    (logs,) = policies["WriteLogs"]
    (log_group_id, _) = ec2.only_resource(COLLECTOR_STACK, "AWS::Logs::LogGroup")
    assert logs["Resource"] == {"Fn::GetAtt": [log_group_id, "Arn"]}


def test_results_are_published_through_the_storage_stacks_policy(ec2: SynthesizedApp) -> None:
    _, role = ec2.only_resource(COLLECTOR_STACK, "AWS::IAM::Role")
    (managed,) = role["Properties"]["ManagedPolicyArns"]
    policy_id, _ = ec2.only_resource(STORAGE_STACK, "AWS::IAM::ManagedPolicy")
    assert ec2.resolve(managed) == {"Ref": policy_id}
    ec2.template(COLLECTOR_STACK).resource_count_is("AWS::IAM::Policy", 0)


def test_the_address_parameter_holds_the_instance_private_ip(ec2: SynthesizedApp) -> None:
    instance_id, _ = instance(ec2)
    template = ec2.template(COLLECTOR_STACK)
    template.has_resource_properties(
        "AWS::SSM::Parameter",
        {"Name": "/csm-collector/collector/address", "Value": {"Fn::GetAtt": [instance_id, "PrivateIp"]}},
    )
    template.has_resource_properties("AWS::SSM::Parameter", {"Name": "/csm-collector/collector/port", "Value": "31000"})


def test_the_workload_security_group_is_published_for_attach(ec2: SynthesizedApp) -> None:
    (parameter,) = [
        body
        for body in ec2.resources(COLLECTOR_STACK, "AWS::SSM::Parameter").values()
        if body["Properties"]["Name"] == "/csm-collector/collector/workload-security-group"
    ]
    value = ec2.resolve(parameter["Properties"]["Value"])
    assert "GroupId" in str(value) and "Workload" in str(value)


def test_the_address_parameters_follow_the_prefix_and_port(ec2_custom: SynthesizedApp) -> None:
    template = ec2_custom.template(COLLECTOR_STACK)
    template.has_resource_properties("AWS::SSM::Parameter", {"Name": "/team/csm/collector/address"})
    template.has_resource_properties("AWS::SSM::Parameter", {"Name": "/team/csm/collector/port", "Value": "31001"})


def test_outputs_say_how_to_connect(ec2: SynthesizedApp) -> None:
    instance_id, _ = instance(ec2)
    outputs = ec2.templates[COLLECTOR_STACK]["Outputs"]
    assert outputs["InstanceId"]["Value"] == {"Ref": instance_id}
    assert outputs["CollectorAddress"]["Value"] == {"Fn::GetAtt": [instance_id, "PrivateIp"]}
    assert outputs["ConnectCommand"]["Value"] == {
        "Fn::Join": ["", ["aws ssm start-session --target ", {"Ref": instance_id}]]
    }
    assert render_text(outputs["ShowPolicyCommand"]["Value"]).endswith(
        '--document-name AWS-StartInteractiveCommand --parameters command="sudo cat /var/lib/csm-collector/policy.json"'
    )


def test_logs_are_kept_a_month_and_deleted_with_the_stack(ec2: SynthesizedApp) -> None:
    ec2.template(COLLECTOR_STACK).has_resource(
        "AWS::Logs::LogGroup", {"Properties": {"RetentionInDays": 30}, "DeletionPolicy": "Delete"}
    )


def test_cloudformation_waits_until_the_collector_listens(ec2: SynthesizedApp) -> None:
    template = ec2.template(COLLECTOR_STACK)
    (handle_id, _) = ec2.only_resource(COLLECTOR_STACK, "AWS::CloudFormation::WaitConditionHandle")
    instance_id, body = instance(ec2)
    template.has_resource(
        "AWS::CloudFormation::WaitCondition",
        {
            "DependsOn": Match.array_with([instance_id]),
            "Properties": {"Handle": {"Ref": handle_id}, "Count": 1, "Timeout": "1200"},
        },
    )
    assert value_after(body["Properties"]["UserData"], "CSM_SIGNAL_URL='") == {"Ref": handle_id}
    text = user_data(ec2)
    assert text.index("trap 'csm_status=$?;") < text.index("aws s3 cp")  # a failed download signals too
    assert text.index("systemctl restart csm-collector") < text.index("if csm_wait_until_listening; then")
    assert 'ss -Hlun "sport = :31000"' in text
    assert "cfn-signal" not in text and "CreationPolicy" not in body  # the condition covers creation and updates


def test_the_wait_is_renamed_after_the_user_data_so_every_update_of_it_waits_again(
    ec2: SynthesizedApp, ec2_custom: SynthesizedApp
) -> None:
    suffixes = []
    for app in (ec2, ec2_custom):
        (handle_id, _) = app.only_resource(COLLECTOR_STACK, "AWS::CloudFormation::WaitConditionHandle")
        (condition_id, _) = app.only_resource(COLLECTOR_STACK, "AWS::CloudFormation::WaitCondition")
        readiness = ec2_collector(app).readiness
        renamed_after = app.stacks.collector.resolve(readiness.renamed_after())
        assert handle_id.endswith(fingerprint(renamed_after)) and condition_id.endswith(fingerprint(renamed_after))
        text = json.dumps(renamed_after)
        package = ec2_collector(app).node.find_child("Package").asset
        assert package.s3_object_key in text  # a new package is a new user data: the next deploy waits again
        assert URL_PLACEHOLDER in text
        suffixes.append(fingerprint(renamed_after))
    assert suffixes[0] != suffixes[1]  # another port or prefix: another wait


def test_the_user_data_fits_the_ec2_limit(ec2: SynthesizedApp) -> None:
    assert len(user_data(ec2).encode()) < 16 * 1024


def test_with_endpoints_only_egress_the_signal_needs_only_the_s3_gateway_endpoint(
    ec2_endpoints: SynthesizedApp,
) -> None:
    """The handle's URL is a presigned S3 URL in the stack's region: the collector's subnet routes S3 through
    the gateway endpoint, whose (default) policy does not restrict it; no CloudFormation endpoint is needed."""
    (interface,) = instance(ec2_endpoints)[1]["Properties"]["NetworkInterfaces"]
    subnet = ec2_endpoints.resolve(interface["SubnetId"])
    (route_table,) = [
        association["Properties"]["RouteTableId"]
        for association in ec2_endpoints.resources(NETWORK_STACK, "AWS::EC2::SubnetRouteTableAssociation").values()
        if association["Properties"]["SubnetId"] == subnet
    ]
    endpoints = ec2_endpoints.resources(NETWORK_STACK, "AWS::EC2::VPCEndpoint").values()
    (s3,) = [e["Properties"] for e in endpoints if render_text(e["Properties"]["ServiceName"]).endswith(".s3")]
    assert route_table in s3["RouteTableIds"]
    assert "PolicyDocument" not in s3
    services = {render_text(e["Properties"]["ServiceName"]).rsplit(".", 1)[-1] for e in endpoints}
    assert "cloudformation" not in services
    assert "curl" in user_data(ec2_endpoints) and "cfn-signal" not in user_data(ec2_endpoints)
