"""One run of `csm-collector proxy` with every real client behind it, for tests/e2e/test_proxy_*.py.

moto_server (IAM enforced at the end, for the denied calls) behind the proxy via --upstream; boto3, the AWS
CLI v1, the JS SDK v3 and the Go SDK v2 use AWS's real host names over TLS with the generated CA, set up
only by `proxy-env`; then a request no operation matches, a malformed one, plain HTTP and TLS to a server
that is not AWS. The proxy publishes to moto's S3 and SSM and archives; it is stopped with SIGTERM.
"""

from __future__ import annotations

import gzip
import json
import secrets
import socket
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import boto3

from tests.proxy_harness import (
    CLIENTS,
    base_env,
    fetch_through_proxy,
    go_client,
    moto_server,
    own_tls_server,
    proxy_env,
    running_proxy,
)
from tests.proxy_requests import ACCESS_KEY_ID, ACCOUNT, SESSION_TOKEN

REGION = "eu-west-1"
SECRET_KEY = "client-secret-access-key-never-in-output"
BUCKET, PREFIX, SSM_PREFIX = "proxy-results", "collector/", "/csm-proxy-test"


@dataclass
class ProxyRun:
    out: Path
    ca_dir: Path
    secret: str  # in every secret value the clients sent
    results: dict[str, Any] = field(default_factory=dict)  # what each client and probe printed or saw
    stdout: str = ""
    stderr: str = ""
    returncode: int | None = None
    published: dict[str, str] = field(default_factory=dict)  # S3 key or SSM name -> content (decompressed)

    def policy(self, workload: str) -> dict[str, Any]:
        return dict(json.loads((self.out / "policies" / f"{workload}.json").read_text()))

    def stats(self) -> dict[str, Any]:
        return dict(json.loads((self.out / "stats.json").read_text()))


def run_everything(tmp: Path) -> ProxyRun:
    run = ProxyRun(out=tmp / "out", ca_dir=tmp / "ca", secret=f"SECRET-{secrets.token_hex(8)}")
    with moto_server(ACCOUNT) as moto_port, own_tls_server(tmp) as (tls_port, tls_cert):
        moto = f"http://127.0.0.1:{moto_port}"
        publisher = _admin_key(moto)
        env = base_env() | _credentials(*publisher) | {"AWS_ENDPOINT_URL": moto, "AWS_DEFAULT_REGION": REGION}
        _aws(moto, "s3", *publisher).create_bucket(
            Bucket=BUCKET, CreateBucketConfiguration={"LocationConstraint": REGION}
        )
        flags = [
            "--ca-dir",
            str(run.ca_dir),
            "--upstream",
            moto,
            "--output-dir",
            str(run.out),
            "--flush-interval",
            "3600",
            "--allow-destination",  # the TLS server that is not AWS: a local address, refused unless allowed
            f"127.0.0.1:{tls_port}",
        ]
        flags += [
            "--s3-bucket",
            BUCKET,
            "--s3-prefix",
            PREFIX,
            "--ssm-prefix",
            SSM_PREFIX,
            "--region",
            REGION,
            "--archive",
        ]
        with running_proxy(env, *flags) as proxy:
            _clients(run, proxy.port, tmp, moto)
            _probes(run, proxy.port, moto_port, tls_port, tls_cert)
            _denied(run, proxy.port, moto)
        run.stdout, run.stderr, run.returncode = proxy.stdout, proxy.stderr, proxy.process.returncode
        run.published = _published(moto, publisher)
    return run


def client_env(run: ProxyRun, port: int, workload: str) -> dict[str, str]:
    base = base_env() | _credentials(ACCESS_KEY_ID, SECRET_KEY) | {"AWS_SESSION_TOKEN": SESSION_TOKEN}
    return proxy_env(base, "--port", str(port), "--ca-dir", str(run.ca_dir), "--workload", workload)


def _clients(run: ProxyRun, port: int, tmp: Path, moto: str) -> None:
    role = _aws(moto, "iam", ACCESS_KEY_ID, SECRET_KEY).create_role(
        RoleName="fn-role", Path="/deploy/", AssumeRolePolicyDocument="{}"
    )["Role"]["Arn"]
    boto3_client = [sys.executable, str(CLIENTS / "boto3_client.py"), "py", run.secret, role]
    run.results["w-boto3"] = _json_out(boto3_client, client_env(run, port, "w-boto3"))
    run.results["w-cli"] = _cli(run, port, tmp)
    node = ["node", "--no-warnings", str(CLIENTS / "js_client.mjs"), "js", run.secret]
    run.results["w-js"] = _json_out(
        node, client_env(run, port, "w-js") | {"AWS_SDK_JS_SUPPRESS_MAINTENANCE_MODE_MESSAGE": "1"}
    )
    run.results["w-go"] = _json_out([str(go_client()), "go", run.secret], client_env(run, port, "w-go"))


def _cli(run: ProxyRun, port: int, tmp: Path) -> dict[str, Any]:
    env = client_env(run, port, "w-cli") | {"AWS_DEFAULT_REGION": REGION}
    body = tmp / "cli-object.txt"
    body.write_text(f"cli {run.secret}")
    aws = str(Path(sys.executable).parent / "aws")
    location = "LocationConstraint=" + REGION
    for command in (
        ["s3api", "create-bucket", "--bucket", "cli-bucket", "--create-bucket-configuration", location],
        ["s3api", "put-object", "--bucket", "cli-bucket", "--key", "logs/a.txt", "--body", str(body)],
        ["s3", "ls", "s3://cli-bucket/logs/"],
        ["sqs", "create-queue", "--queue-name", "cli-queue"],
    ):
        subprocess.run([aws, *command], env=env, check=True, capture_output=True, timeout=60)
    return _json_out([aws, "sts", "get-caller-identity"], env)


def _probes(run: ProxyRun, port: int, moto_port: int, tls_port: int, tls_cert: Path) -> None:
    """A request no operation matches, malformed bytes, plain HTTP and TLS to hosts that are not AWS."""
    import requests

    proxies = {"https": f"http://w-probe:x@127.0.0.1:{port}", "http": f"http://w-probe:x@127.0.0.1:{port}"}
    bundle = str(run.ca_dir / "ca-bundle.pem")
    scope = f"{ACCESS_KEY_ID}/20261201/{REGION}/s3/aws4_request"
    headers = {"Authorization": f"AWS4-HMAC-SHA256 Credential={scope}, SignedHeaders=host, Signature=00"}
    unmatched = requests.request(
        "PATCH", f"https://s3.{REGION}.amazonaws.com/", headers=headers, proxies=proxies, verify=bundle
    )
    with socket.create_connection(("127.0.0.1", port), timeout=10) as raw:
        raw.sendall(b"NOT\x00HTTP \xff\xfe garbage\r\n\r\n")
        run.results["malformed"] = raw.recv(4096)[:12]
    plain = requests.get(f"http://127.0.0.1:{moto_port}/moto-api/", proxies=proxies, timeout=10)
    body, certificate = fetch_through_proxy(port, tls_port, tls_cert)
    run.results["probes"] = {"unmatched": unmatched.status_code, "plain": plain.status_code, "tls_body": body}
    run.results["tls_certificate"] = certificate
    run.results["tls_own_certificate"] = tls_cert.read_bytes()


def _denied(run: ProxyRun, port: int, moto: str) -> None:
    """moto enforcing IAM for a user without policies: every call through the proxy is denied."""
    iam = _aws(moto, "iam", ACCESS_KEY_ID, SECRET_KEY)
    iam.create_user(UserName="nobody")
    key = iam.create_access_key(UserName="nobody")["AccessKey"]
    _reset_auth(moto)
    env = client_env(run, port, "w-denied") | {
        "DENIED_KEY_ID": key["AccessKeyId"],
        "DENIED_SECRET": key["SecretAccessKey"],
    }
    run.results["w-denied"] = _json_out([sys.executable, str(CLIENTS / "denied_client.py"), "py-table"], env)
    run.results["denied_key_id"] = key["AccessKeyId"]


def _admin_key(moto: str) -> tuple[str, str]:
    """A moto IAM user allowed everything: the proxy publishes with it, also once moto enforces IAM."""
    iam = _aws(moto, "iam", ACCESS_KEY_ID, SECRET_KEY)
    iam.create_user(UserName="publisher")
    document = {"Version": "2012-10-17", "Statement": [{"Effect": "Allow", "Action": "*", "Resource": "*"}]}
    iam.put_user_policy(UserName="publisher", PolicyName="all", PolicyDocument=json.dumps(document))
    key = iam.create_access_key(UserName="publisher")["AccessKey"]
    return key["AccessKeyId"], key["SecretAccessKey"]


def _reset_auth(moto: str) -> None:
    request = urllib.request.Request(
        f"{moto}/moto-api/reset-auth", data=b"0", headers={"Content-Type": "text/plain"}, method="POST"
    )
    urllib.request.build_opener(urllib.request.ProxyHandler({})).open(request).read()


def _published(moto: str, key: tuple[str, str]) -> dict[str, str]:
    s3, ssm = _aws(moto, "s3", *key), _aws(moto, "ssm", *key)
    found = {}
    for item in s3.list_objects_v2(Bucket=BUCKET).get("Contents", []):
        data = s3.get_object(Bucket=BUCKET, Key=item["Key"])["Body"].read()
        found[item["Key"]] = (gzip.decompress(data) if item["Key"].endswith(".gz") else data).decode()
    for parameter in ssm.get_parameters_by_path(Path=SSM_PREFIX, Recursive=True)["Parameters"]:
        found[parameter["Name"]] = parameter["Value"]
    return found


def _aws(moto: str, service: str, key_id: str, secret: str) -> Any:
    return boto3.session.Session(aws_access_key_id=key_id, aws_secret_access_key=secret, region_name=REGION).client(
        service, endpoint_url=moto
    )


def _credentials(key_id: str, secret: str) -> dict[str, str]:
    return {"AWS_ACCESS_KEY_ID": key_id, "AWS_SECRET_ACCESS_KEY": secret}


def _json_out(command: list[str], env: dict[str, str]) -> dict[str, Any]:
    result = subprocess.run(command, env=env, capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{command[:2]} failed:\n{result.stdout}\n{result.stderr}"
    last_line = result.stdout.strip().splitlines()[-1]
    return dict(json.loads(last_line if last_line.startswith("{") else result.stdout))
