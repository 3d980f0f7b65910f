"""`csm-collector attach` / `detach`: point existing Lambda functions at a collector, and back."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from ..aws import AWS_ERRORS, aws_clients, calling
from ..contract import (
    COLLECTOR_ADDRESS,
    COLLECTOR_PORT,
    COLLECTOR_WORKLOAD_SECURITY_GROUP,
    DEFAULT_PORT,
    collector_parameter,
)
from ..core.lambda_env import AttachError, address_in, attach, changes, detach, egress_allows, runtime_warning
from ..errors import CredentialsError, Failure, NotFound, one_line
from ..settings import AttachOptions, DetachOptions
from ..settings.values import port_number
from .grammar import Subcommands, add_region

log = logging.getLogger("csm_collector")
FUNCTION_ERRORS: tuple[type[Exception], ...] = (AttachError, Failure)  # one function's: the others go on


@dataclass(frozen=True)
class Collector:
    host: str
    port: int
    workload_security_group: str | None = None


def register(commands: Subcommands) -> None:
    attach_cmd = commands.add_parser("attach", help="point Lambda functions at a collector (AWS_CSM_* variables)")
    attach_cmd.add_argument("functions", nargs="+", metavar="FUNCTION", help="function names or ARNs")
    where = attach_cmd.add_mutually_exclusive_group(required=True)
    where.add_argument("--host", help="the collector's address (IP or DNS name)")
    where.add_argument("--ssm-prefix", help="read the address from <prefix>/collector/address (the CDK stack's)")
    attach_cmd.add_argument(
        "--port", type=port_number, help=f"UDP port (default: from SSM with --ssm-prefix, else {DEFAULT_PORT})"
    )
    attach_cmd.add_argument("--client-id", help="AWS_CSM_CLIENT_ID for all of them (default: each function's name)")
    _add_common(attach_cmd)
    detach_cmd = commands.add_parser("detach", help="restore the environment functions had before attach")
    detach_cmd.add_argument("functions", nargs="+", metavar="FUNCTION")
    _add_common(detach_cmd)


def _add_common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dry-run", action="store_true", help="show the changes without making them")
    add_region(parser)


def collector_from_ssm(ssm: Any, prefix: str) -> Collector:
    """The collector's address as the CDK stack publishes it under <prefix>/collector/."""
    values = {}
    for name in (COLLECTOR_ADDRESS, COLLECTOR_PORT, COLLECTOR_WORKLOAD_SECURITY_GROUP):
        parameter = collector_parameter(prefix, name)
        try:
            with calling(f"SSM parameter {parameter}"):
                values[name] = ssm.get_parameter(Name=parameter)["Parameter"]["Value"]
        except NotFound:
            if name == COLLECTOR_ADDRESS:
                raise
    return Collector(
        values[COLLECTOR_ADDRESS],
        int(values.get(COLLECTOR_PORT, DEFAULT_PORT)),
        values.get(COLLECTOR_WORKLOAD_SECURITY_GROUP),
    )


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


def run_attach(args: AttachOptions, out: TextIO) -> int:
    clients = aws_clients(args.region, ["lambda", "ec2", "ssm"], purpose="attach")
    if args.host:
        collector = Collector(args.host, args.port or DEFAULT_PORT)
    else:
        found = collector_from_ssm(clients["ssm"], args.ssm_prefix or "")
        collector = Collector(found.host, args.port or found.port, found.workload_security_group)
    return _each_function(args.functions, lambda function: _attach_one(clients, function, collector, args, out))


def _each_function(functions: tuple[str, ...], change: Callable[[str], None]) -> int:
    """Change every function; one that fails is logged (one line) and the others go on: exit 1 if any
    failed. Without usable credentials none can succeed: that stops at the first."""
    failures = 0
    for function in functions:
        try:
            with calling(f"Lambda function {function!r}"):
                change(function)
        except CredentialsError:
            raise
        except FUNCTION_ERRORS as error:
            log.error("%s", one_line(error) if isinstance(error, Failure) else f"{function}: {one_line(error)}")
            failures += 1
    return 1 if failures else 0


def _attach_one(clients: dict[str, Any], function: str, collector: Collector, args: AttachOptions, out: TextIO) -> None:
    config = clients["lambda"].get_function_configuration(FunctionName=function)
    env = _environment(config)
    updated = attach(env, host=collector.host, port=collector.port, client_id=args.client_id or config["FunctionName"])
    for warning in warnings_for(config, collector, clients["ec2"]):
        out.write(f"warning: {function}: {warning}\n")
    _apply(clients["lambda"], config, env, updated, dry_run=args.dry_run, out=out)


def run_detach(args: DetachOptions, out: TextIO) -> int:
    client = aws_clients(args.region, ["lambda"], purpose="detach")["lambda"]

    def restore(function: str) -> None:
        config = client.get_function_configuration(FunctionName=function)
        env = _environment(config)
        _apply(client, config, env, detach(env), dry_run=args.dry_run, out=out)

    return _each_function(args.functions, restore)


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
