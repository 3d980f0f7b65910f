"""The results bucket (encrypted, private, TLS-only, versioned, archives expiring, access-logged) and the
SSM parameters that say where results go."""

from __future__ import annotations

from typing import Any

import pytest
from aws_cdk.assertions import Match

from stacks.app_builder import STORAGE_STACK
from tests.infra.synth import SynthesizedApp, render_text

pytestmark = pytest.mark.slow


def results_bucket(app: SynthesizedApp) -> dict[str, Any]:
    """The versioned bucket (the access-log bucket is not versioned)."""
    buckets = [
        body["Properties"]
        for body in app.resources(STORAGE_STACK, "AWS::S3::Bucket").values()
        if body["Properties"].get("VersioningConfiguration") == {"Status": "Enabled"}
    ]
    assert len(buckets) == 1
    return buckets[0]


def test_two_buckets_both_encrypted_private_and_retained(ec2: SynthesizedApp) -> None:
    template = ec2.template(STORAGE_STACK)
    template.resource_count_is("AWS::S3::Bucket", 2)
    template.all_resources_properties(
        "AWS::S3::Bucket",
        {
            "BucketEncryption": {
                "ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]
            },
            "PublicAccessBlockConfiguration": {
                "BlockPublicAcls": True,
                "BlockPublicPolicy": True,
                "IgnorePublicAcls": True,
                "RestrictPublicBuckets": True,
            },
            "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
        },
    )
    template.all_resources("AWS::S3::Bucket", {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"})


def test_every_bucket_policy_denies_plain_http_and_old_tls(ec2: SynthesizedApp) -> None:
    template = ec2.template(STORAGE_STACK)
    template.resource_count_is("AWS::S3::BucketPolicy", 2)
    template.all_resources_properties(
        "AWS::S3::BucketPolicy",
        {
            "PolicyDocument": {
                "Statement": Match.array_with(
                    [
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Condition": {"Bool": {"aws:SecureTransport": "false"}},
                            }
                        ),
                        Match.object_like(
                            {
                                "Effect": "Deny",
                                "Action": "s3:*",
                                "Condition": {"NumericLessThan": {"s3:TlsVersion": 1.2}},
                            }
                        ),
                    ]
                )
            }
        },
    )


def test_results_are_versioned_and_access_logged(ec2: SynthesizedApp) -> None:
    bucket = results_bucket(ec2)
    assert bucket["LoggingConfiguration"]["LogFilePrefix"] == "results-bucket/"
    assert "DestinationBucketName" in bucket["LoggingConfiguration"]


def test_raw_archives_expire_and_old_versions_do_too(ec2: SynthesizedApp) -> None:
    rules = {rule["Id"]: rule for rule in results_bucket(ec2)["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-raw-archives"] == {
        "Id": "expire-raw-archives",
        "Prefix": "collector/archive/",
        "ExpirationInDays": 90,
        "Status": "Enabled",
    }
    assert rules["expire-noncurrent-versions"]["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    assert rules["expire-noncurrent-versions"]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_archive_retention_and_prefix_follow_the_context(ec2_custom: SynthesizedApp) -> None:
    rules = {rule["Id"]: rule for rule in results_bucket(ec2_custom)["LifecycleConfiguration"]["Rules"]}
    assert (rules["expire-raw-archives"]["Prefix"], rules["expire-raw-archives"]["ExpirationInDays"]) == (
        "team/csm/archive/",
        30,
    )


def test_parameters_say_where_results_go(ec2: SynthesizedApp, ec2_custom: SynthesizedApp) -> None:
    template = ec2.template(STORAGE_STACK)
    template.has_resource_properties(
        "AWS::SSM::Parameter",
        {"Name": "/csm-collector/results/bucket", "Type": "String", "Value": {"Ref": Match.any_value()}},
    )
    template.has_resource_properties(
        "AWS::SSM::Parameter", {"Name": "/csm-collector/results/prefix", "Value": "collector/"}
    )
    ec2_custom.template(STORAGE_STACK).has_resource_properties(
        "AWS::SSM::Parameter", {"Name": "/team/csm/results/prefix", "Value": "team/csm/"}
    )


def test_outputs_name_the_bucket_and_how_to_read_results(ec2: SynthesizedApp) -> None:
    outputs = ec2.templates[STORAGE_STACK]["Outputs"]
    assert outputs["SsmPrefix"]["Value"] == "/csm-collector"
    assert outputs["ReadPoliciesCommand"]["Value"] == (
        "aws ssm get-parameters-by-path --path /csm-collector/policies --recursive"
    )
    list_command = outputs["ListResultsCommand"]["Value"]["Fn::Join"][1]
    assert list_command[0] == "aws s3 ls s3://"
    assert list_command[-1] == "/collector/ --recursive"
    assert "ResultsBucketName" in outputs


def test_the_publishing_policy_allows_only_the_prefix_and_the_parameter_path(
    ec2: SynthesizedApp, ec2_custom: SynthesizedApp
) -> None:
    for app, s3_prefix, ssm_path in ((ec2, "collector/", "csm-collector"), (ec2_custom, "team/csm/", "team/csm")):
        _, policy = app.only_resource(STORAGE_STACK, "AWS::IAM::ManagedPolicy")
        objects, state, check, parameters = policy["Properties"]["PolicyDocument"]["Statement"]
        assert sorted(objects["Action"]) == ["s3:AbortMultipartUpload", "s3:PutObject"]
        assert objects["Resource"] == {
            "Fn::Join": ["", [{"Fn::GetAtt": [app.results_bucket_id(), "Arn"]}, f"/{s3_prefix}*"]]
        }
        assert state["Action"] == "s3:GetObject"
        assert state["Resource"] == {
            "Fn::Join": ["", [{"Fn::GetAtt": [app.results_bucket_id(), "Arn"]}, f"/{s3_prefix}state.json"]]
        }
        assert (check["Sid"], check["Action"]) == ("CheckBucketAtStart", "s3:ListBucket")  # HeadBucket at start
        assert check["Resource"] == {"Fn::GetAtt": [app.results_bucket_id(), "Arn"]}
        assert "Condition" not in check
        assert parameters["Action"] == "ssm:PutParameter"
        assert render_text(parameters["Resource"]).endswith(f":parameter/{ssm_path}/policies/*")


def test_athena_reads_the_archive_through_a_projected_glue_table(
    ec2: SynthesizedApp, ec2_custom: SynthesizedApp
) -> None:
    from collector_runtime.contract import ARCHIVE_COLUMNS, LEGACY_ARCHIVE_COLUMNS

    for app, prefix in ((ec2, "collector/"), (ec2_custom, "team/csm/")):
        _, table = app.only_resource(STORAGE_STACK, "AWS::Glue::Table")
        table_input = table["Properties"]["TableInput"]
        assert table_input["Name"] == "events" and table["Properties"]["DatabaseName"] == "csm_collector"
        assert [c["Name"] for c in table_input["StorageDescriptor"]["Columns"]] == [
            n.lower() for n, _ in ARCHIVE_COLUMNS + LEGACY_ARCHIVE_COLUMNS
        ]
        assert table_input["PartitionKeys"] == [{"Name": "dt", "Type": "string"}]
        parameters = table_input["Parameters"]
        assert parameters["projection.enabled"] == "true" and parameters["projection.dt.type"] == "date"
        assert render_text(parameters["storage.location.template"]).endswith(f"/{prefix}archive/dt=${{dt}}/")
        assert (
            table_input["StorageDescriptor"]["SerdeInfo"]["SerializationLibrary"]
            == "org.openx.data.jsonserde.JsonSerDe"
        )


def test_the_athena_workgroup_encrypts_results_and_has_the_saved_queries(ec2: SynthesizedApp) -> None:
    _, workgroup = ec2.only_resource(STORAGE_STACK, "AWS::Athena::WorkGroup")
    configuration = workgroup["Properties"]["WorkGroupConfiguration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"] == {"EncryptionOption": "SSE_S3"}
    assert render_text(configuration["ResultConfiguration"]["OutputLocation"]).endswith("/athena-results/")
    queries = {q["Properties"]["Name"] for q in ec2.resources(STORAGE_STACK, "AWS::Athena::NamedQuery").values()}
    assert queries == {"csm-top-api-calls-per-workload", "csm-denied-calls", "csm-distinct-service-api-per-workload"}
    bucket = ec2.resources(STORAGE_STACK, "AWS::S3::Bucket")[ec2.results_bucket_id()]
    rules = {rule["Id"]: rule for rule in bucket["Properties"]["LifecycleConfiguration"]["Rules"]}
    assert rules["expire-athena-results"]["Prefix"] == "athena-results/"
    assert rules["expire-athena-results"]["ExpirationInDays"] == 30
