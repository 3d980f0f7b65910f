"""Parsed arguments (defaults already include the environment) -> each command's frozen options."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Mapping
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..core.aggregate import Limits
from ..core.policy import PolicyOptions
from . import values
from .errors import ConfigError
from .options import (
    DEMO,
    REPORT,
    AlertOptions,
    ApplyOptions,
    AttachOptions,
    CompareOptions,
    DemoOptions,
    DetachOptions,
    ExplainOptions,
    ExportOptions,
    IniOptions,
    LearnedInput,
    ListenOptions,
    Options,
    OtlpOptions,
    OutputOptions,
    ProxyEnvOptions,
    ProxyOptions,
    ReplayOptions,
    ReportOptions,
)


def output_options(args: argparse.Namespace, *, check_writable: bool = True) -> OutputOptions:
    output_dir = Path(args.output_dir)
    return OutputOptions(
        output_dir=values.writable_directory(output_dir) if check_writable else output_dir,
        policy=PolicyOptions(
            sort_alphabetical=args.sort_alphabetical,
            force_wildcard_resource=args.force_wildcard_resource,
            include_dependent=args.dependent_actions,
            fails_only=args.fails_only,
            resource_scope=args.resource_scope,
            exact_names=args.exact_names,
        ),
        max_policy_chars=args.max_policy_chars,
        explain=args.explain,
    )


def listen_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ListenOptions:
    return replace(
        collector_options(args),
        host=args.host,
        port=args.port,
        receive_buffer=args.receive_buffer,
        allow_from=values.parse_networks(args.allow_from) if args.allow_from else None,
        rate_limit=args.rate_limit,
        otlp=OtlpOptions(
            port=args.otlp_port,
            host=args.otlp_host,
            workload_attribute=values.attribute_name(args.otlp_workload_attribute),
            max_request_bytes=args.otlp_max_request_bytes,
        ),
    )


def collector_options(args: argparse.Namespace) -> ListenOptions:
    """What every running collector has (listen, proxy): output, publishing, archive, limits, observability."""
    options = ListenOptions(
        flush_interval=args.flush_interval,
        quiet=args.quiet,
        output=output_options(args),
        s3_bucket=args.s3_bucket or None,
        s3_prefix=values.normalise_s3_prefix(args.s3_prefix),
        ssm_prefix=values.normalise_ssm_prefix(args.ssm_prefix) if args.ssm_prefix else None,
        region=args.region or None,
        publish_timeout=args.publish_timeout,
        ssm_rate=args.ssm_rate,
        archive=args.archive,
        archive_dir=Path(args.archive_dir) if args.archive_dir else None,
        archive_s3_prefix=values.normalise_s3_prefix(args.archive_s3_prefix) if args.archive_s3_prefix else None,
        archive_max_bytes=args.archive_max_bytes,
        archive_max_seconds=args.archive_max_seconds,
        collector_id=values.collector_id(args.collector_id),
        limits=Limits(
            max_workloads=args.max_workloads,
            max_calls_per_workload=args.max_calls_per_workload,
            max_scopes_per_call=args.max_scopes_per_call,
        ),
        metrics_port=args.metrics_port,
        metrics_host=args.metrics_host,
        log_format=args.log_format,
        alerts=alert_options(args),
    )
    if options.archive:  # found at start, not at the first event: the archive would stay off all along
        values.writable_directory(options.archive_directory, "archive directory")
    return options


def alert_options(args: argparse.Namespace) -> AlertOptions:
    return AlertOptions(
        file=args.alerts_file,
        webhook=values.webhook_url(args.alerts_webhook) if args.alerts_webhook else None,
        event_bus=args.alerts_event_bus or None,
        learning_period=args.learning_period,
        role_map=tuple(dict(pair for group in args.role_map or () for pair in group).items()),
        drift_interval=args.drift_interval,
        unused_after=args.unused_after,
        rate=args.alerts_rate,
        burst=args.alerts_burst,
        retry_window=args.alerts_retry_window,
    )


def proxy_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ProxyOptions:
    return ProxyOptions(
        host=args.host,
        port=args.port,
        ca_dir=Path(args.ca_dir).expanduser(),
        intercept_hosts=tuple(args.intercept_host or ()),
        upstream=args.upstream,
        allowed_destinations=tuple(args.allow_destination or ()),
        ca_secret=args.ca_secret or None,
        collector=collector_options(args),
    )


def proxy_env_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ProxyEnvOptions:
    ca_dir = Path(args.ca_dir).expanduser()
    certificate = Path(args.ca_certificate).expanduser() if args.ca_certificate else None
    return ProxyEnvOptions(
        host=args.host, port=args.port, ca_dir=ca_dir, workload=args.workload, ca_certificate=certificate
    )


def report_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ReportOptions:
    values.day_range(args.since, args.until)
    return ReportOptions(
        archive_dirs=tuple(args.archive_dirs or REPORT.archive_dirs),
        athena=args.athena,
        database=args.database,
        table=args.table,
        workgroup=args.workgroup,
        region=args.region or None,
        since=args.since,
        until=args.until,
        output=output_options(args),
        html=args.html,
        from_output=args.from_output,
    )


def compare_options(args: argparse.Namespace, environ: Mapping[str, str]) -> CompareOptions:
    return CompareOptions(
        workload=args.workload,
        observed=args.observed,
        observed_s3=args.observed_s3,
        observed_ssm=args.observed_ssm,
        output_dir=args.output_dir,
        role=args.role,
        function=args.function,
        policy_file=tuple(args.policy_file or ()),
        format=args.format,
        report_file=args.report_file,
        fail_on=tuple(args.fail_on),
        region=args.region or None,
        account_map=tuple(args.account_map or ()),
    )


def learned_input(args: argparse.Namespace) -> LearnedInput:
    mapping = dict(args.account_map or ())
    if len(mapping) != len(args.account_map or ()):
        raise ConfigError("--account-map: a learned account is mapped twice")
    return LearnedInput(
        workload=args.workload,
        output_dir=args.output_dir,
        s3_bucket=args.s3_bucket or None,
        s3_prefix=values.normalise_s3_prefix(args.s3_prefix),
        region=args.region or None,
        account_map=tuple(sorted(mapping.items())),
        max_policy_chars=args.max_policy_chars,
    )


def export_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ExportOptions:
    return ExportOptions(learned=learned_input(args), format=args.format, out=args.out)


def apply_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ApplyOptions:
    if args.restore is None and (not args.workload or not args.role):
        raise ConfigError("apply needs --workload and --role (or --restore RECORD)")
    return ApplyOptions(
        learned=learned_input(args),
        role=args.role,
        execute=args.execute,
        detach_replaced=args.detach_replaced,
        record=args.record,
        restore=args.restore,
    )


def attach_options(args: argparse.Namespace, environ: Mapping[str, str]) -> AttachOptions:
    return AttachOptions(
        functions=tuple(args.functions),
        host=args.host,
        ssm_prefix=values.normalise_ssm_prefix(args.ssm_prefix) if args.ssm_prefix else None,
        port=args.port,
        client_id=args.client_id,
        dry_run=args.dry_run,
        region=args.region or None,
        otlp=args.otlp,
        layer_arn=values.layer_arn(args.layer_arn, otlp=args.otlp),
    )


def explain_options(args: argparse.Namespace, environ: Mapping[str, str]) -> ExplainOptions:
    if args.output_dir is None and not (args.service and args.api):
        raise ConfigError("explain needs SERVICE and API (e.g. explain S3 ListBuckets), or --output-dir DIR")
    return ExplainOptions(service=args.service, api=args.api, output_dir=args.output_dir, workload=args.workload)


def ini_options(args: argparse.Namespace, environ: Mapping[str, str]) -> IniOptions:
    enable = args.command == "set-ini"
    return IniOptions(
        enable=enable,
        profile=args.profile,
        csm_host=args.csm_host if enable else None,
        csm_port=args.csm_port if enable else None,
        csm_client_id=args.csm_client_id if enable else None,
        config_file=values.aws_config_file(environ),
    )


def demo_options(args: argparse.Namespace, environ: Mapping[str, str]) -> DemoOptions:
    output = Path(args.output_dir or DEMO.output.output_dir)
    return DemoOptions(output=OutputOptions(output_dir=values.writable_directory(output)))


BUILDERS: dict[str, Callable[[argparse.Namespace, Mapping[str, str]], Any]] = {
    "listen": listen_options,
    "proxy": proxy_options,
    "proxy-env": proxy_env_options,
    "replay": lambda a, e: ReplayOptions(files=tuple(a.files), quiet=a.quiet, output=output_options(a)),
    "report": report_options,
    "compare": compare_options,
    "attach": attach_options,
    "detach": lambda a, e: DetachOptions(functions=tuple(a.functions), dry_run=a.dry_run, region=a.region or None),
    "demo": demo_options,
    "explain": explain_options,
    "set-ini": ini_options,
    "unset-ini": ini_options,
    "export": export_options,
    "apply": apply_options,
}


def options_from(args: argparse.Namespace, environ: Mapping[str, str]) -> Options:
    built: Options = BUILDERS[args.command](args, environ)
    return built
