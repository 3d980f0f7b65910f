"""A workload's run through the proxy (boto3, set up by `proxy-env` only): reports with dated UUID keys, a
Terraform-named bucket, a secret by its full ARN, a queue, a table, a log stream named by day.

Usage: python day_client.py DAY TERRAFORM_BUCKET SECRET_ARN QUEUE_URL (DAY: 2026-12-06)"""

from __future__ import annotations

import sys
import uuid

import boto3

day, bucket, secret_arn, queue_url = sys.argv[1:5]
session = boto3.session.Session(region_name="eu-west-1")
s3 = session.client("s3")
path = day.replace("-", "/")
keys = [f"reports/{path}/{uuid.uuid4()}.csv" for _ in range(3)]
for key in keys:
    s3.put_object(Bucket="acme-reports", Key=key, Body=b"a,b\n")
s3.get_object(Bucket="acme-reports", Key=keys[0])["Body"].read()
s3.put_object(Bucket=bucket, Key="state/app.json", Body=b"{}")
session.client("secretsmanager").get_secret_value(SecretId=secret_arn)
session.client("sqs").send_message(QueueUrl=queue_url, MessageBody="job")
session.client("dynamodb").put_item(TableName="acme-orders", Item={"id": {"S": str(uuid.uuid4())}})
logs = session.client("logs")
stream = f"app/{day}/{uuid.uuid4()}"
logs.create_log_stream(logGroupName="acme-app", logStreamName=stream)
logs.put_log_events(logGroupName="acme-app", logStreamName=stream, logEvents=[{"timestamp": 1, "message": "x"}])
print('{"ok": true}')
