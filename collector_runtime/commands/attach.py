"""`csm-collector attach` / `detach`: point existing Lambda functions at a collector, and back."""

from __future__ import annotations

import argparse
import logging
from dataclasses import dataclass
from typing import Any, TextIO

from ..aws import aws_clients
from ..core.attach import AttachError, address_in, attach, changes, detach, egress_allows, runtime_warning
from ..settings import DEFAULT_PORT

log = logging.getLogger("csm_collector")
try:
    from botocore.exceptions import BotoCoreError, ClientError

    AWS_ERRORS: tuple[type[Exception], ...] = (ClientError, BotoCoreError)
except ImportError:  # pragma: no cover - without boto3 no AWS call is made
    AWS_ERRORS = ()
FUNCTION_ERRORS: tuple[type[Exception], ...] = (AttachError, *AWS_ERRORS)


@dataclass(frozen=True)
class Collector:
    host: str
    port: int
    workload_security_group: str | None = None


def collector_from_ssm(ssm: Any, prefix: str) -> Collector:
    """The collector's address as the CDK stack publishes it under <prefix>/collector/."""
    base = "/" + prefix.strip("/") + "/collector"
    values = {}
    for name in ("address", "port", "workload-security-group"):
        try:
            values[name] = ssm.get_parameter(Name=f"{base}/{name}")["Parameter"]["Value"]
        except AWS_ERRORS as error:
            if name == "address":
                raise AttachError(f"cannot read {base}/address: {error}") from error
    return Collector(values["address"], int(values.get("port", DEFAULT_PORT)), values.get("workload-security-group"))


def warnings_for(config: dict[str, Any], collector: Collector, ec2: Any) -> list[str]:
    found = []
    runtime = runtime_warning(config.get("Runtime"), config.get("PackageType"))
    if runtime:
        found.append(runtime)
    vpc = config.get("VpcConfig") or {}
    if not vpc.get("SubnetIds"):
        found.append(f"not attached to a VPC: it cannot reach a collector at a private address ({collector.host})")
        return found
    try:
        found += _network_warnings(vpc, collector, ec2)
    except AWS_ERRORS as error:
        found.append(f"could not check its network path to the collector: {error}")
    return found


def _network_warnings(vpc: dict[str, Any], collector: Collector, ec2: Any) -> list[str]:
    found = []
    vpc_ids = sorted({s["VpcId"] for s in ec2.describe_subnets(SubnetIds=vpc["SubnetIds"])["Subnets"]})
    cidrs = [a["CidrBlock"] for v in ec2.describe_vpcs(VpcIds=vpc_ids)["Vpcs"] for a in v["CidrBlockAssociationSet"]]
    if address_in(collector.host, cidrs) is False:
        found.append(
            f"the collector {collector.host} is outside its VPC {', '.join(vpc_ids)} ({', '.join(cidrs)}): "
            "it needs peering or a transit gateway to reach it"
        )
    groups = ec2.describe_security_groups(GroupIds=vpc.get("SecurityGroupIds", []))["SecurityGroups"]
    if not egress_allows(groups, collector.host, collector.port):
        found.append(f"its security groups allow no UDP egress to {collector.host}:{collector.port}")
    if collector.workload_security_group and collector.workload_security_group not in vpc.get("SecurityGroupIds", []):
        found.append(
            f"it does not have the collector's workload security group {collector.workload_security_group}: "
            f"add it, or allow UDP {collector.port} from its security groups on the collector"
        )
    return found


def cmd_attach(args: argparse.Namespace, out: TextIO) -> int:
    clients = aws_clients(args.region, ["lambda", "ec2", "ssm"])
    try:
        if args.host:
            collector = Collector(args.host, args.port or DEFAULT_PORT)
        else:
            found = collector_from_ssm(clients["ssm"], args.ssm_prefix)
            collector = Collector(found.host, args.port or found.port, found.workload_security_group)
    except AttachError as error:
        log.error("%s", error)
        return 2
    failures = 0
    for function in args.functions:
        try:
            _attach_one(clients, function, collector, args, out)
        except FUNCTION_ERRORS as error:
            log.error("%s: %s", function, error)
            failures += 1
    return 1 if failures else 0


def _attach_one(
    clients: dict[str, Any], function: str, collector: Collector, args: argparse.Namespace, out: TextIO
) -> None:
    config = clients["lambda"].get_function_configuration(FunctionName=function)
    env = _environment(config)
    updated = attach(env, host=collector.host, port=collector.port, client_id=args.client_id or config["FunctionName"])
    for warning in warnings_for(config, collector, clients["ec2"]):
        out.write(f"warning: {function}: {warning}\n")
    _apply(clients["lambda"], config, env, updated, dry_run=args.dry_run, out=out)


def cmd_detach(args: argparse.Namespace, out: TextIO) -> int:
    client = aws_clients(args.region, ["lambda"])["lambda"]
    failures = 0
    for function in args.functions:
        try:
            config = client.get_function_configuration(FunctionName=function)
            env = _environment(config)
            _apply(client, config, env, detach(env), dry_run=args.dry_run, out=out)
        except FUNCTION_ERRORS as error:
            log.error("%s: %s", function, error)
            failures += 1
    return 1 if failures else 0


def _environment(config: dict[str, Any]) -> dict[str, str]:
    environment = config.get("Environment") or {}
    if environment.get("Error"):
        raise AttachError(
            f"cannot read its environment ({environment['Error'].get('ErrorCode')}): "
            "changing it now would lose variables"
        )
    return dict(environment.get("Variables") or {})


def _apply(
    client: Any, config: dict[str, Any], env: dict[str, str], updated: dict[str, str], *, dry_run: bool, out: TextIO
) -> None:
    name = config["FunctionName"]
    diff = changes(env, updated)
    out.write(f"{name}: {'would change' if dry_run else 'changing'} {len(diff)} variable(s)\n")
    for line in diff:
        out.write(f"  {line}\n")
    if dry_run or not diff:
        return
    # RevisionId: fail rather than overwrite a change someone made since we read the configuration.
    revision = {"RevisionId": config["RevisionId"]} if config.get("RevisionId") else {}
    client.update_function_configuration(FunctionName=name, Environment={"Variables": updated}, **revision)
