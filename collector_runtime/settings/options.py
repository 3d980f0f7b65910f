"""Every command's options: typed, frozen, and the one place each default is written."""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass, field
from pathlib import Path

from ..contract import (
    ATHENA_DATABASE,
    ATHENA_TABLE,
    ATHENA_WORKGROUP,
    DEFAULT_HOST,
    DEFAULT_METRICS_HOST,
    DEFAULT_OTLP_HOST,
    DEFAULT_OTLP_MAX_REQUEST_BYTES,
    DEFAULT_PORT,
    DEFAULT_PROXY_PORT,
    DEFAULT_PUBLISH_TIMEOUT,
    DEFAULT_RECEIVE_BUFFER,
)
from ..core.aggregate import Limits
from ..core.policy import PolicyOptions
from ..core.policy_size import MANAGED_POLICY_MAX_CHARS
from ..core.publish_plan import PublishTargets
from ..sources.proxy.hosts import Upstream

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_CA_DIR = Path("~/.csm-collector/proxy-ca")  # the proxy's CA (generated there on first use)


@dataclass(frozen=True)
class OutputOptions:
    """Where and how policies are written (listen, replay, report, demo)."""

    output_dir: Path = Path("csm-output")
    policy: PolicyOptions = field(default_factory=PolicyOptions)
    max_policy_chars: int = MANAGED_POLICY_MAX_CHARS
    explain: bool = False


@dataclass(frozen=True)
class OtlpOptions:
    """The OTLP/HTTP traces receiver of `listen` (off unless a port is given)."""

    port: int | None = None  # None: no receiver; contract.DEFAULT_OTLP_PORT (4318) is OTLP/HTTP's port
    host: str = DEFAULT_OTLP_HOST
    workload_attribute: str | None = None  # a resource attribute naming the workload before service.name
    max_request_bytes: int = DEFAULT_OTLP_MAX_REQUEST_BYTES

    @property
    def enabled(self) -> bool:
        return self.port is not None


@dataclass(frozen=True)
class AlertOptions:
    """Alerts of a running collector (listen, proxy): off unless a target is given (see core/alerts.py)."""

    file: bool = False  # alerts.jsonl in the output directory
    webhook: str | None = None
    event_bus: str | None = None  # an EventBridge bus name or ARN
    learning_period: float = 0.0  # seconds per workload before NewAction alerts (none by default)
    role_map: tuple[tuple[str, str], ...] = ()  # (workload, role ARN or Lambda function ARN) for drift
    drift_interval: float = 3600.0
    unused_after: float = 7 * 86400.0  # seconds watched before "granted, never used" drift is reported
    rate: float = 1.0  # alerts a second on average at most, in bursts of `burst`
    burst: int = 100
    retry_window: float = 600.0  # seconds a failed delivery is retried before the events are dropped

    @property
    def enabled(self) -> bool:
        return bool(self.file or self.webhook or self.event_bus)


@dataclass(frozen=True)
class ListenOptions:
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    flush_interval: float = 10.0
    receive_buffer: int = DEFAULT_RECEIVE_BUFFER
    quiet: bool = False
    output: OutputOptions = field(default_factory=OutputOptions)
    s3_bucket: str | None = None
    s3_prefix: str = "csm-collector/"  # normalised: "" or ending in "/"
    ssm_prefix: str | None = None  # normalised: starts with "/", no trailing "/"
    region: str | None = None
    publish_timeout: float = DEFAULT_PUBLISH_TIMEOUT
    ssm_rate: float = 2.0
    archive: bool = False
    archive_dir: Path | None = None  # None: <output-dir>/archive
    archive_s3_prefix: str | None = None  # None: <s3-prefix>archive/ (another writer's archive: one Athena table)
    archive_max_bytes: int = 64 * 1024 * 1024
    archive_max_seconds: float = 300.0
    collector_id: str | None = None  # None: the host name
    allow_from: tuple[Network, ...] | None = None  # None: any source
    rate_limit: float | None = None  # datagrams per second per source; None: unlimited
    limits: Limits = field(default_factory=Limits)
    metrics_port: int | None = None
    metrics_host: str = DEFAULT_METRICS_HOST
    log_format: str = "text"
    otlp: OtlpOptions = field(default_factory=OtlpOptions)
    alerts: AlertOptions = field(default_factory=AlertOptions)

    @property
    def archive_directory(self) -> Path:
        return self.archive_dir or self.output.output_dir / "archive"

    @property
    def publish_targets(self) -> PublishTargets:
        return PublishTargets(
            bucket=self.s3_bucket,
            prefix=self.s3_prefix,
            ssm_prefix=self.ssm_prefix,
            archive_prefix=self.archive_s3_prefix,
        )


@dataclass(frozen=True)
class ProxyOptions:
    """`proxy`: the HTTPS proxy, with the collector behind it (`collector`: everything `listen` has but the
    UDP socket; its host, port, receive buffer and access fields are not used)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PROXY_PORT
    ca_dir: Path = DEFAULT_CA_DIR  # expanded when the options are built
    intercept_hosts: tuple[str, ...] = ()  # host globs intercepted besides AWS's (sources.proxy.hosts.AWS_HOSTS)
    upstream: Upstream | None = None  # send intercepted requests here instead (moto, LocalStack)
    allowed_destinations: tuple[str, ...] = ()  # --allow-destination (sources.proxy.destinations)
    ca_secret: str | None = None  # a Secrets Manager secret that keeps the CA (the deployed proxy)
    collector: ListenOptions = field(default_factory=ListenOptions)


@dataclass(frozen=True)
class ProxyEnvOptions:
    """`proxy-env`: the client set-up for a proxy (host: the address clients reach it at)."""

    host: str = DEFAULT_HOST
    port: int = DEFAULT_PROXY_PORT
    ca_dir: Path = DEFAULT_CA_DIR
    workload: str | None = None
    ca_certificate: Path | None = None  # a remote proxy's CA certificate, instead of ca_dir's own CA


@dataclass(frozen=True)
class ReplayOptions:
    files: tuple[str, ...] = ()
    quiet: bool = False
    output: OutputOptions = field(default_factory=OutputOptions)


@dataclass(frozen=True)
class ReportOptions:
    archive_dirs: tuple[Path, ...] = (Path("csm-output/archive"),)
    athena: bool = False
    database: str = ATHENA_DATABASE
    table: str = ATHENA_TABLE
    workgroup: str = ATHENA_WORKGROUP
    region: str | None = None
    since: str | None = None
    until: str | None = None
    output: OutputOptions = field(default_factory=lambda: OutputOptions(output_dir=Path("csm-report")))
    html: Path | None = None  # also write the HTML report here
    from_output: Path | None = None  # a collector's output directory instead of the archive


@dataclass(frozen=True)
class CompareOptions:
    workload: str | None = None
    observed: Path | None = None
    observed_s3: str | None = None
    observed_ssm: str | None = None
    output_dir: Path = Path("csm-output")
    role: str | None = None
    function: str | None = None
    policy_file: tuple[Path, ...] = ()
    format: str = "markdown"
    report_file: Path | None = None
    fail_on: tuple[str, ...] = ()
    region: str | None = None
    account_map: tuple[tuple[str, str], ...] = ()  # learned account -> the role's account (--account-map)


@dataclass(frozen=True)
class AttachOptions:
    functions: tuple[str, ...] = ()
    host: str | None = None
    ssm_prefix: str | None = None
    port: int | None = None  # None: from SSM with --ssm-prefix, else DEFAULT_PORT (DEFAULT_OTLP_PORT with otlp)
    client_id: str | None = None
    dry_run: bool = False
    region: str | None = None
    otlp: bool = False  # the ADOT layer and OTEL_* variables instead of AWS_CSM_*
    layer_arn: str | None = None  # with otlp: this layer instead of the table's


@dataclass(frozen=True)
class DetachOptions:
    functions: tuple[str, ...] = ()
    dry_run: bool = False
    region: str | None = None


@dataclass(frozen=True)
class ExplainOptions:
    service: str | None = None
    api: str | None = None
    output_dir: Path | None = None
    workload: str | None = None


@dataclass(frozen=True)
class IniOptions:
    enable: bool = True  # set-ini; False: unset-ini
    profile: str = "default"
    csm_host: str | None = None
    csm_port: int | None = None
    csm_client_id: str | None = None
    config_file: Path = Path("~/.aws/config")  # $AWS_CONFIG_FILE when set


@dataclass(frozen=True)
class DemoOptions:
    output: OutputOptions = field(default_factory=lambda: OutputOptions(output_dir=Path("csm-demo-output")))


@dataclass(frozen=True)
class LearnedInput:
    """Where `export` and `apply` read learned policies: an output directory, or the results bucket."""

    workload: str | None = None  # None: every workload (export)
    output_dir: Path = Path("csm-output")
    s3_bucket: str | None = None
    s3_prefix: str = "csm-collector/"  # normalised: "" or ending in "/" (as `listen` publishes)
    region: str | None = None
    account_map: tuple[tuple[str, str], ...] = ()  # learned account -> target account (--account-map)
    max_policy_chars: int = MANAGED_POLICY_MAX_CHARS


@dataclass(frozen=True)
class ExportOptions:
    learned: LearnedInput = field(default_factory=LearnedInput)
    format: str = "json"
    out: Path | None = None  # a file (one workload) or a directory; None: standard output


@dataclass(frozen=True)
class ApplyOptions:
    learned: LearnedInput = field(default_factory=LearnedInput)
    role: str | None = None
    execute: bool = False  # default: a dry run that changes nothing
    detach_replaced: bool = False
    record: Path | None = None  # where the restore record goes (None: csm-apply-<role>-<UTC time>.json)
    restore: Path | None = None  # put the role back as this record says


Options = (
    ListenOptions
    | ProxyOptions
    | ProxyEnvOptions
    | ReplayOptions
    | ReportOptions
    | CompareOptions
    | AttachOptions
    | DetachOptions
    | ExplainOptions
    | IniOptions
    | DemoOptions
    | ExportOptions
    | ApplyOptions
)
LISTEN, REPLAY, REPORT, DEMO = ListenOptions(), ReplayOptions(), ReportOptions(), DemoOptions()
PROXY, PROXY_ENV = ProxyOptions(), ProxyEnvOptions()
LEARNED, EXPORT, APPLY = LearnedInput(), ExportOptions(), ApplyOptions()
