"""boto3 through the proxy with a key moto denies everything (moto enforcing IAM). Usage: denied_client.py TABLE."""

import json
import os
import sys

import boto3
from botocore.exceptions import ClientError

session = boto3.session.Session(
    aws_access_key_id=os.environ["DENIED_KEY_ID"],
    aws_secret_access_key=os.environ["DENIED_SECRET"],
    region_name="eu-west-1",
)
codes = {}
for name, call in (
    ("sqs", lambda: session.client("sqs").list_queues()),
    ("dynamodb", lambda: session.client("dynamodb").describe_table(TableName=sys.argv[1])),
):
    try:
        call()
        codes[name] = "allowed"
    except ClientError as error:
        codes[name] = error.response["Error"]["Code"]
print(json.dumps(codes))
