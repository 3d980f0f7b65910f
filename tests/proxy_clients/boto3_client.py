"""boto3 through the proxy: AWS's real host names, no endpoint override. Set-up: only `proxy-env`'s variables.

Usage: boto3_client.py TAG SECRET ROLE_ARN  (SECRET: a value that must never reach any output; ROLE_ARN: the
role the Lambda function gets, created beforehand)."""

import json
import sys

import boto3

tag, secret, role = sys.argv[1:4]
session = boto3.session.Session(region_name="eu-west-1")
s3 = session.client("s3")
bucket = f"{tag}-bucket"
s3.create_bucket(Bucket=bucket, CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
s3.put_object(Bucket=bucket, Key="plain/object.txt", Body=f"object {secret}".encode())
s3.put_object(Bucket=bucket, Key="tagged/object.txt", Body=f"tagged {secret}".encode(), Tagging="team=ci")
assert secret in s3.get_object(Bucket=bucket, Key="plain/object.txt")["Body"].read().decode()
ddb = session.client("dynamodb")
table = f"{tag}-table"
ddb.create_table(
    TableName=table,
    KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
    AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
    BillingMode="PAY_PER_REQUEST",
)
ddb.put_item(TableName=table, Item={"pk": {"S": "1"}, "value": {"S": secret}})
ddb.get_item(TableName=table, Key={"pk": {"S": "1"}})
sqs = session.client("sqs")
queue_url = sqs.create_queue(QueueName=f"{tag}-queue")["QueueUrl"]
sqs.send_message(QueueUrl=queue_url, MessageBody=f"message {secret}")
topic = session.client("sns").create_topic(Name=f"{tag}-topic")["TopicArn"]
session.client("sns").publish(TopicArn=topic, Message=f"note {secret}")
ssm = session.client("ssm")
ssm.put_parameter(Name=f"/{tag}/password", Value=f"parameter {secret}", Type="SecureString")
ssm.get_parameter(Name=f"/{tag}/password", WithDecryption=True)
secrets = session.client("secretsmanager")
secrets.create_secret(Name=f"{tag}/db", SecretString=f"string {secret}")
secrets.get_secret_value(SecretId=f"{tag}/db")
session.client("lambda").create_function(
    FunctionName=f"{tag}-fn",
    Runtime="python3.12",
    Role=role,
    Handler="index.handler",
    Code={"ZipFile": b"PK\x05\x06" + b"\x00" * 18},
)
identity = session.client("sts").get_caller_identity()
print(json.dumps({"account": identity["Account"], "queue_url": queue_url, "role": role}))
