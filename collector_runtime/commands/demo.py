"""`csm-collector demo`: a collector on a free local port, a boto3 workload against moto (in-process,
no AWS account) with CSM switched on for that session only, and the policy it learned."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any, TextIO

from ..collector import CollectorService
from ..contract import MERGED_POLICY, POLICIES_DIR
from ..core.accounts import example_access_key
from ..data import load_action_map
from ..errors import StartupError
from ..install_hint import install_hint
from ..settings import DemoOptions, ListenOptions
from ..sources.csm.source import CsmSource
from ..sources.csm.udp import UdpListener
from .startup import writable_directory

DEMO_CLIENT_ID = "csm-demo"
DEMO_BUCKET = "csm-demo-bucket"
DEMO_REGION = "us-east-1"
DEMO_ACCOUNT = "123456789012"  # what the demo's (fake) access key id encodes: the policy is scoped to it


class DemoUnavailable(StartupError):
    """boto3 or moto is not installed."""


def csm_session(
    port: int,
    client_id: str,
    region: str = DEMO_REGION,
    *,
    access_key_id: str = example_access_key(DEMO_ACCOUNT),
    secret_access_key: str = "testing",
    session_token: str = "testing-session-token",
) -> Any:
    """A boto3 session that reports every call to 127.0.0.1:`port`, with fake (moto) credentials.

    CSM is switched on for this session only: no environment variable or config file is touched.
    """
    import boto3
    import botocore.session

    core = botocore.session.Session()
    for name, value in (
        ("csm_enabled", True),
        ("csm_host", "127.0.0.1"),
        ("csm_port", port),
        ("csm_client_id", client_id),
    ):
        core.set_config_variable(name, value)
    return boto3.Session(
        botocore_session=core,
        region_name=region,
        aws_access_key_id=access_key_id,
        aws_secret_access_key=secret_access_key,
        aws_session_token=session_token,
    )


def run_workload(session: Any) -> list[str]:
    """A small application: who am I, store and read a file, a table item, a queue message, a parameter."""
    session.client("sts").get_caller_identity()
    s3 = session.client("s3")
    s3.create_bucket(Bucket=DEMO_BUCKET)
    s3.put_object(Bucket=DEMO_BUCKET, Key="reports/hello.txt", Body=b"hello from the CSM demo")
    s3.head_object(Bucket=DEMO_BUCKET, Key="reports/hello.txt")
    s3.get_object(Bucket=DEMO_BUCKET, Key="reports/hello.txt")["Body"].read()
    s3.list_objects_v2(Bucket=DEMO_BUCKET, Prefix="reports/")
    dynamodb = session.client("dynamodb")
    dynamodb.create_table(
        TableName="csm-demo",
        KeySchema=[{"AttributeName": "id", "KeyType": "HASH"}],
        AttributeDefinitions=[{"AttributeName": "id", "AttributeType": "S"}],
        BillingMode="PAY_PER_REQUEST",
    )
    dynamodb.put_item(TableName="csm-demo", Item={"id": {"S": "1"}})
    dynamodb.get_item(TableName="csm-demo", Key={"id": {"S": "1"}})
    sqs = session.client("sqs")
    queue = sqs.create_queue(QueueName="csm-demo")["QueueUrl"]
    sqs.send_message(QueueUrl=queue, MessageBody="hello")
    sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=1)
    ssm = session.client("ssm")
    ssm.put_parameter(Name="/csm-demo/greeting", Value="hello", Type="String", Overwrite=True)
    ssm.get_parameter(Name="/csm-demo/greeting")
    return ["sts", "s3", "dynamodb", "sqs", "ssm"]


def run(options: DemoOptions, out: TextIO) -> int:
    writable_directory(options.output.output_dir)
    try:
        from moto import mock_aws
    except ImportError as error:
        raise DemoUnavailable(f"the demo needs boto3 and moto: {install_hint('demo')}") from error
    settings = ListenOptions(host="127.0.0.1", port=0, quiet=True, output=options.output)
    listener = UdpListener(settings.host, settings.port, receive_buffer=settings.receive_buffer)
    service = CollectorService(settings, load_action_map(), sources=[CsmSource(listener)])
    port = listener.address[1]
    thread = threading.Thread(target=service.run, name="csm-collector", daemon=True)
    thread.start()
    out.write(f"collector listening on 127.0.0.1:{port}; running the demo workload against moto...\n")
    try:
        with mock_aws():
            run_workload(csm_session(port, DEMO_CLIENT_ID))
    finally:
        service.request_stop()
        thread.join(timeout=30)
    return _print_result(service, options.output.output_dir, out)


def _print_result(service: CollectorService, output_dir: Path, out: TextIO) -> int:
    counters = service.counters()
    policy_file = output_dir / POLICIES_DIR / f"{DEMO_CLIENT_ID}.json"
    if not policy_file.exists():
        out.write("the collector received no events: is UDP on 127.0.0.1 blocked?\n")
        return 1
    out.write(
        f"received {counters['csm']['datagrams_received']} datagrams: {counters['calls']} calls, "
        f"{counters['calls_unmapped']} unmapped, {counters['calls_permissionless']} needing no permission\n\n"
        f"least-privilege policy for workload '{DEMO_CLIENT_ID}' ({policy_file}):\n"
    )
    out.write(policy_file.read_text())
    out.write(f"\nall files: {output_dir}/ ({MERGED_POLICY}, stats.json, {POLICIES_DIR}/)\n")
    return 0
