"""`csm-collector attach` / `detach`: point existing Lambda functions at a collector (CSM, or with `--otlp` an
ADOT layer and OpenTelemetry), and back."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TextIO

from ..aws import AWS_ERRORS, aws_clients, calling
from ..contract import (
    COLLECTOR_ADDRESS,
    COLLECTOR_OTLP_PORT,
    COLLECTOR_PORT,
    COLLECTOR_WORKLOAD_SECURITY_GROUP,
    DEFAULT_OTLP_PORT,
    DEFAULT_PORT,
    SAVED_ENV,
    collector_parameter,
    otlp_endpoint,
)
from ..core.lambda_env import AttachError, address_in, attach, changes, detach, egress_allows, runtime_warning
from ..core.lambda_otlp import adot_layer, attach_otlp, detach_otlp, is_attached
from ..data import load_adot_layers
from ..errors import CredentialsError, Failure, NotFound, one_line
from ..settings import AttachOptions, DetachOptions

log = logging.getLogger("csm_collector")
FUNCTION_ERRORS: tuple[type[Exception], ...] = (AttachError, Failure)  # one function's: the others go on


@dataclass(frozen=True)
class Collector:
    host: str
    port: int
    workload_security_group: str | None = None
    otlp_port: int = DEFAULT_OTLP_PORT

    def port_for(self, otlp: bool) -> tuple[str, int]:
        return ("tcp", self.otlp_port) if otlp else ("udp", self.port)


def collector_from_ssm(ssm: Any, prefix: str) -> Collector:
    """The collector's address as the CDK stack publishes it under <prefix>/collector/."""
    values = {}
    for name in (COLLECTOR_ADDRESS, COLLECTOR_PORT, COLLECTOR_WORKLOAD_SECURITY_GROUP, COLLECTOR_OTLP_PORT):
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
        int(values.get(COLLECTOR_OTLP_PORT, DEFAULT_OTLP_PORT)),
    )


def warnings_for(config: dict[str, Any], collector: Collector, ec2: Any, *, otlp: bool = False) -> list[str]:
    found = []
    runtime = None if otlp else runtime_warning(config.get("Runtime"), config.get("PackageType"))
    if runtime:
        found.append(runtime)
    vpc = config.get("VpcConfig") or {}
    if not vpc.get("SubnetIds"):
        found.append(f"not attached to a VPC: it cannot reach a collector at a private address ({collector.host})")
        return found
    try:
        found += _network_warnings(vpc, collector, ec2, otlp)
    except AWS_ERRORS as error:
        found.append(f"could not check its network path to the collector: {error}")
    return found


def _network_warnings(vpc: dict[str, Any], collector: Collector, ec2: Any, otlp: bool) -> list[str]:
    found = []
    protocol, port = collector.port_for(otlp)
    vpc_ids = sorted({s["VpcId"] for s in ec2.describe_subnets(SubnetIds=vpc["SubnetIds"])["Subnets"]})
    cidrs = [a["CidrBlock"] for v in ec2.describe_vpcs(VpcIds=vpc_ids)["Vpcs"] for a in v["CidrBlockAssociationSet"]]
    if address_in(collector.host, cidrs) is False:
        found.append(
            f"the collector {collector.host} is outside its VPC {', '.join(vpc_ids)} ({', '.join(cidrs)}): "
            "it needs peering or a transit gateway to reach it"
        )
    groups = ec2.describe_security_groups(GroupIds=vpc.get("SecurityGroupIds", []))["SecurityGroups"]
    if not egress_allows(groups, collector.host, port, protocol=protocol):
        found.append(f"its security groups allow no {protocol.upper()} egress to {collector.host}:{port}")
    if collector.workload_security_group and collector.workload_security_group not in vpc.get("SecurityGroupIds", []):
        found.append(
            f"it does not have the collector's workload security group {collector.workload_security_group}: "
            f"add it, or allow {protocol.upper()} {port} from its security groups on the collector"
        )
    return found


def run_attach(args: AttachOptions, out: TextIO) -> int:
    clients = aws_clients(args.region, ["lambda", "ec2", "ssm"], purpose="attach")
    if args.host:
        collector = Collector(args.host, args.port or DEFAULT_PORT, otlp_port=args.port or DEFAULT_OTLP_PORT)
    else:
        found = collector_from_ssm(clients["ssm"], args.ssm_prefix or "")
        collector = Collector(
            found.host, args.port or found.port, found.workload_security_group, args.port or found.otlp_port
        )
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
    layers = updated_layers = _layers(config)
    workload = args.client_id or config["FunctionName"]
    if args.otlp:
        region, architecture = config["FunctionArn"].split(":")[3], (config.get("Architectures") or ["x86_64"])[0]
        layer = adot_layer(load_adot_layers(), config.get("Runtime"), region, architecture, layer_arn=args.layer_arn)
        endpoint = otlp_endpoint(collector.host, collector.otlp_port)
        updated, updated_layers, _ = attach_otlp(env, layers, layer=layer, endpoint=endpoint, service_name=workload)
    else:
        updated = attach(env, host=collector.host, port=collector.port, client_id=workload)
    for warning in warnings_for(config, collector, clients["ec2"], otlp=args.otlp):
        out.write(f"warning: {function}: {warning}\n")
    _apply(clients["lambda"], config, (env, layers), (updated, updated_layers), dry_run=args.dry_run, out=out)


def run_detach(args: DetachOptions, out: TextIO) -> int:
    client = aws_clients(args.region, ["lambda"], purpose="detach")["lambda"]

    def restore(function: str) -> None:
        config = client.get_function_configuration(FunctionName=function)
        env, layers = _environment(config), _layers(config)
        _apply(client, config, (env, layers), _detached(env, layers, function, out), dry_run=args.dry_run, out=out)

    return _each_function(args.functions, restore)


def _detached(env: dict[str, str], layers: list[str], function: str, out: TextIO) -> tuple[dict[str, str], list[str]]:
    """Undo attach --otlp and/or attach, whichever the function records."""
    if not is_attached(env):
        return detach(env), layers
    env, layers, warnings = detach_otlp(env, layers)
    for warning in warnings:
        out.write(f"warning: {function}: {warning}\n")
    return (detach(env) if SAVED_ENV in env else env), layers


def _layers(config: dict[str, Any]) -> list[str]:
    return [str(layer["Arn"]) for layer in config.get("Layers") or []]


def _environment(config: dict[str, Any]) -> dict[str, str]:
    environment = config.get("Environment") or {}
    if environment.get("Error"):
        raise AttachError(
            f"cannot read its environment ({environment['Error'].get('ErrorCode')}): "
            "changing it now would lose variables"
        )
    return dict(environment.get("Variables") or {})


Configuration = tuple[dict[str, str], list[str]]  # environment variables, layer ARNs


def _apply(
    client: Any, config: dict[str, Any], before: Configuration, after: Configuration, *, dry_run: bool, out: TextIO
) -> None:
    name = config["FunctionName"]
    diff = changes(before[0], after[0])
    layer_diff = [f"- layer {a}" for a in before[1] if a not in after[1]] + [
        f"+ layer {a}" for a in after[1] if a not in before[1]
    ]
    out.write(
        f"{name}: {'would change' if dry_run else 'changing'} {len(diff)} variable(s), {len(layer_diff)} layer(s)\n"
    )
    for line in diff + layer_diff:
        out.write(f"  {line}\n")
    if dry_run or not (diff or layer_diff):
        return
    # RevisionId: fail rather than overwrite a change someone made since we read the configuration.
    revision = {"RevisionId": config["RevisionId"]} if config.get("RevisionId") else {}
    layers = {"Layers": after[1]} if layer_diff else {}
    client.update_function_configuration(FunctionName=name, Environment={"Variables": after[0]}, **layers, **revision)
