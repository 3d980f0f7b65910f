"""Athena over the raw-event archive: a Glue table with partition projection (no crawler), a workgroup
that encrypts its results, and saved queries; the database and workgroup are named after the copy (`name`),
so two copies coexist in one account and region. The table's columns and the queries come from the
contract the collector writes its archive by (collector_runtime/contract.py), so they cannot drift apart."""

from __future__ import annotations

import aws_cdk as cdk
from aws_cdk import aws_athena as athena
from aws_cdk import aws_glue as glue
from aws_cdk import aws_s3 as s3
from constructs import Construct

from collector_runtime.contract import (
    ARCHIVE_COLUMNS,
    ATHENA_TABLE,
    LEGACY_ARCHIVE_COLUMNS,
    PARTITION_COLUMN,
    saved_queries,
)

TABLE = ATHENA_TABLE
FIRST_DAY = "2024-01-01"


class ArchiveAnalytics(Construct):
    def __init__(
        self,
        scope: Construct,
        construct_id: str,
        *,
        bucket: s3.IBucket,
        archive_prefix: str,
        results_prefix: str,
        database: str,
        workgroup: str,
    ) -> None:
        super().__init__(scope, construct_id)
        account = cdk.Stack.of(self).account
        location = f"s3://{bucket.bucket_name}/{archive_prefix}"
        glue_database = glue.CfnDatabase(
            self,
            "Database",
            catalog_id=account,
            database_input=glue.CfnDatabase.DatabaseInputProperty(
                name=database, description="csm-collector: the raw-event archive (observed calls)"
            ),
        )
        table = glue.CfnTable(self, "Events", catalog_id=account, database_name=database, table_input=_table(location))
        table.add_resource_dependency(glue_database)
        self.workgroup = athena.CfnWorkGroup(
            self,
            "WorkGroup",
            name=workgroup,
            description="csm-collector: queries over the raw-event archive",
            recursive_delete_option=True,
            work_group_configuration=athena.CfnWorkGroup.WorkGroupConfigurationProperty(
                enforce_work_group_configuration=True,
                publish_cloud_watch_metrics_enabled=True,
                result_configuration=athena.CfnWorkGroup.ResultConfigurationProperty(
                    output_location=f"s3://{bucket.bucket_name}/{results_prefix}",
                    encryption_configuration=athena.CfnWorkGroup.EncryptionConfigurationProperty(
                        encryption_option="SSE_S3"
                    ),
                ),
            ),
        )
        for name, (description, sql) in saved_queries(f'"{database}"."{TABLE}"').items():
            query = athena.CfnNamedQuery(
                self,
                name,
                name=name,
                description=description,
                database=database,
                work_group=workgroup,
                query_string=sql,
            )
            query.add_resource_dependency(self.workgroup)
            query.add_resource_dependency(table)


def _table(location: str) -> glue.CfnTable.TableInputProperty:
    return glue.CfnTable.TableInputProperty(
        name=TABLE,
        description="Redacted CSM events (ApiCall and ApiCallAttempt), one JSON object per line, gzip",
        table_type="EXTERNAL_TABLE",
        parameters={
            "classification": "json",
            "compressionType": "gzip",
            "projection.enabled": "true",
            f"projection.{PARTITION_COLUMN}.type": "date",
            f"projection.{PARTITION_COLUMN}.format": "yyyy-MM-dd",
            f"projection.{PARTITION_COLUMN}.range": f"{FIRST_DAY},NOW",
            f"projection.{PARTITION_COLUMN}.interval": "1",
            f"projection.{PARTITION_COLUMN}.interval.unit": "DAYS",
            "storage.location.template": f"{location}{PARTITION_COLUMN}=${{{PARTITION_COLUMN}}}/",
        },
        partition_keys=[glue.CfnTable.ColumnProperty(name=PARTITION_COLUMN, type="string")],
        storage_descriptor=glue.CfnTable.StorageDescriptorProperty(
            location=location,
            columns=[
                glue.CfnTable.ColumnProperty(name=name.lower(), type=kind)
                for name, kind in ARCHIVE_COLUMNS + LEGACY_ARCHIVE_COLUMNS  # older archives' lines are read too
            ],
            input_format="org.apache.hadoop.mapred.TextInputFormat",
            output_format="org.apache.hadoop.hive.ql.io.HiveIgnoreKeyTextOutputFormat",
            serde_info=glue.CfnTable.SerdeInfoProperty(
                serialization_library="org.openx.data.jsonserde.JsonSerDe",
                parameters={"ignore.malformed.json": "true", "case.insensitive": "true"},
            ),
        ),
    )
