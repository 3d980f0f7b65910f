"""The names the collector runtime and the CDK app (`stacks/`) must agree on; both import this module.

The CDK app imports nothing else from the runtime. Everything here is a plain constant or a pure
function of one: the SDKs' CSM variables, the collector's own `CSM_COLLECTOR_*` variables, ports and
buffers, the output files, the S3 and SSM layout, the raw-event archive's columns and queries, and the
alerts' EventBridge source and role map.
"""

from __future__ import annotations

import argparse
import re

# --- what the AWS SDKs read (Client-Side Monitoring) -----------------------------------------------
CSM_ENABLED = "AWS_CSM_ENABLED"
CSM_HOST = "AWS_CSM_HOST"
CSM_PORT = "AWS_CSM_PORT"
CSM_CLIENT_ID = "AWS_CSM_CLIENT_ID"
CSM_VARIABLES = (CSM_ENABLED, CSM_HOST, CSM_PORT, CSM_CLIENT_ID)

# --- what the collector reads -----------------------------------------------------------------------
SETTINGS_PREFIX = "CSM_COLLECTOR_"  # CSM_COLLECTOR_<FLAG>: every flag's environment variable
SAVED_ENV = "CSM_COLLECTOR_SAVED_ENV"  # on an attached Lambda function: what `attach` replaced
SAVED_OTLP = "CSM_COLLECTOR_SAVED_OTLP"  # on a function attached with --otlp: what it replaced, the layer it added
NOT_SETTINGS = frozenset({SAVED_ENV, SAVED_OTLP})  # CSM_COLLECTOR_* variables that are not collector settings


def setting_variable(flag: str) -> str:
    """The environment variable of a flag: `--s3-bucket` -> CSM_COLLECTOR_S3_BUCKET."""
    return SETTINGS_PREFIX + flag.lstrip("-").replace("-", "_").upper()


DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 31000  # the SDKs' default CSM port
DEFAULT_RECEIVE_BUFFER = 32 * 1024 * 1024  # bytes requested; the EC2 boot script raises rmem_max to it
DEFAULT_PROXY_PORT = 10080  # `csm-collector proxy` (TCP); the CDK app opens it to the workload security group
DEFAULT_METRICS_HOST = "127.0.0.1"
DEFAULT_S3_PREFIX = "csm-collector/"  # where `listen` publishes in the bucket, and `export`/`apply` read
DEFAULT_PUBLISH_TIMEOUT = 30.0  # seconds to publish at shutdown (the Fargate task's stop timeout exceeds it)
DEFAULT_OTLP_HOST = "127.0.0.1"
DEFAULT_OTLP_PORT = 4318  # OTLP/HTTP's port; `listen --otlp-port` turns the receiver on (off by default)
DEFAULT_OTLP_MAX_REQUEST_BYTES = 4 * 1024 * 1024  # per request, on the wire and decompressed
OTLP_TRACES_PATH = "/v1/traces"
# The collector image's /health (`--metrics-port`, bound to 127.0.0.1 inside the container): the Dockerfile's
# ENV and HEALTHCHECK and the Fargate task definition use it; the proxy's container uses the next port.
CONTAINER_METRICS_PORT = 9100
PROXY_CONTAINER_METRICS_PORT = 9101

# --- what OpenTelemetry SDKs and the ADOT Lambda layers read (attach --otlp, the CDK Aspect) -----------
EXEC_WRAPPER = "AWS_LAMBDA_EXEC_WRAPPER"  # the ADOT layer's wrapper script, which starts the SDK
# The ADOT layers' wrappers (aws-otel.github.io/docs/getting-started/lambda: lambda-js, lambda-python, lambda-java):
# Node.js and Java wrap regular handlers, Python runs opentelemetry-instrument.
ADOT_EXEC_WRAPPERS = {"nodejs": "/opt/otel-handler", "python": "/opt/otel-instrument", "java": "/opt/otel-handler"}


def otlp_environment(endpoint: str, *, service_name: str, exec_wrapper: str) -> dict[str, str]:
    """What a Lambda function with an ADOT layer needs to export every AWS SDK span to the collector:
    traces only, OTLP/HTTP protobuf, every span sampled (Lambda's X-Ray header is Sampled=0 unless active
    tracing samples the request: a parent-based sampler would drop calls and leave the policy incomplete),
    no Application Signals metrics (the newer AWSOpenTelemetryDistro layers' default)."""
    return {
        EXEC_WRAPPER: exec_wrapper,
        "OTEL_SERVICE_NAME": service_name,
        "OTEL_TRACES_EXPORTER": "otlp",
        "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": endpoint,
        "OTEL_EXPORTER_OTLP_TRACES_PROTOCOL": "http/protobuf",
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_METRICS_EXPORTER": "none",
        "OTEL_LOGS_EXPORTER": "none",
        "OTEL_AWS_APPLICATION_SIGNALS_ENABLED": "false",
    }


OTLP_VARIABLES = tuple(otlp_environment("", service_name="", exec_wrapper=""))


def otlp_endpoint(host: str, port: int) -> str:
    """The OTLP/HTTP traces URL of a collector (plain HTTP: it is reached inside the VPC only)."""
    return f"http://{host}:{port}{OTLP_TRACES_PATH}"


# --- the output directory (and the same names under the S3 prefix) --------------------------------
POLICIES_DIR = "policies"
MERGED_POLICY = "policy.json"
STATS_FILE = "stats.json"
STATE_FILE = "state.json"
ARCHIVE_DIR = "archive"
HISTORY_DIR = "history"
CA_CERTIFICATE_OBJECT = "proxy-ca-cert.pem"  # the proxy's CA certificate, under its S3 prefix (public)

# --- SSM layout under the prefix ---------------------------------------------------------------------
POLICIES_PATH = "policies"  # <prefix>/policies/<workload>: each workload's policy (or its S3 URI)
COLLECTOR_PATH = "collector"  # <prefix>/collector/<name>: where the collector is (the CDK app writes these)
COLLECTOR_ADDRESS, COLLECTOR_PORT, COLLECTOR_WORKLOAD_SECURITY_GROUP = "address", "port", "workload-security-group"
COLLECTOR_OTLP_PORT = "otlp-port"  # the TCP port of the collector's OTLP/HTTP receiver
COLLECTOR_PROXY_PORT = "proxy-port"  # the TCP port of the HTTPS proxy (deployed with proxy=true)


def policies_parameter_path(ssm_prefix: str) -> str:
    return f"{ssm_prefix.rstrip('/')}/{POLICIES_PATH}"


def collector_parameter(ssm_prefix: str, name: str) -> str:
    return f"{ssm_prefix.rstrip('/')}/{COLLECTOR_PATH}/{name}"


# Error codes that mean "the caller lacks a permission", whatever the service's protocol: the
# denied outcome of a call (core.records) and of legacy archive lines (the SQL below).
DENIED_CODES = frozenset(
    {
        "AccessDenied",
        "AccessDeniedException",
        "UnauthorizedOperation",
        "UnauthorizedAccess",
        "UnauthorizedException",
        "AuthorizationError",
        "AuthorizationErrorException",
        "AuthorizationFailure",
        "Forbidden",
        "ForbiddenException",
        "AllAccessDisabled",
    }
)
# --- Athena over the archive (the storage stack creates these; `report --athena` reads them) ---------
ATHENA_DATABASE = "csm_collector"
ATHENA_TABLE = "events"
ATHENA_WORKGROUP = "csm-collector"

# --- the raw-event archive: gzip JSON lines of observed calls, Hive partitions dt=YYYY-MM-DD --------
PARTITION_COLUMN = "dt"  # the UTC day the collector received the call
# (key in the JSON lines, Glue/Athena type). One line per observed call (core.records.ObservedCall).
ARCHIVE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("workload", "string"),
    ("source", "string"),
    ("service", "string"),
    ("operation", "string"),
    ("region", "string"),
    ("account", "string"),
    ("outcome", "string"),
    ("error_code", "string"),
    ("denied_actions", "array<string>"),
    ("resources", "array<string>"),
    ("request_members", "array<string>"),
    ("time_ms", "bigint"),
)
# Archives written before the records above (one CSM event per line) are still read by `report`.
LEGACY_ARCHIVE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("ClientId", "string"),
    ("Type", "string"),
    ("Api", "string"),
    ("Timestamp", "bigint"),
    ("FinalHttpStatusCode", "int"),
    ("FinalAwsException", "string"),
    ("FinalAwsExceptionMessage", "string"),
    ("FinalSdkException", "string"),
)

# SQL over the archive, shared by DuckDB (local `report`) and Athena (the saved queries the CDK app
# creates). Identifiers are double-quoted lower case, which both engines read the same way; the
# expressions also read legacy lines (CSM events), where `type` tells calls from attempts.
ARCHIVE_WORKLOAD = 'coalesce("workload", "clientid", \'\')'
ARCHIVE_OPERATION = 'coalesce("operation", "api")'
ARCHIVE_TIME = 'coalesce("time_ms", "timestamp")'
ARCHIVE_IS_CALL = "coalesce(\"type\", 'ApiCall') = 'ApiCall'"
ARCHIVE_DENIED = (
    '("outcome" = \'denied\' OR ("outcome" IS NULL AND (coalesce("finalhttpstatuscode", 0) = 403 '
    f'OR "finalawsexception" IN ({", ".join(repr(code) for code in sorted(DENIED_CODES))}))))'
)


def saved_queries(source: str) -> dict[str, tuple[str, str]]:
    """Athena saved queries over the archive: name -> (description, SQL). Engine-neutral SQL (a test
    runs each of them with DuckDB over real archive files)."""
    calls = f"FROM {source} WHERE {ARCHIVE_IS_CALL}"
    workload, operation = f"{ARCHIVE_WORKLOAD} AS workload", f"{ARCHIVE_OPERATION} AS operation"
    days = f'min("{PARTITION_COLUMN}") AS first_day, max("{PARTITION_COLUMN}") AS last_day'
    return {
        "csm-top-api-calls-per-workload": (
            "The most frequent API calls of each workload",
            f'SELECT {workload}, "service", {operation}, count(*) AS calls {calls} '
            "GROUP BY 1, 2, 3 ORDER BY calls DESC, 1, 2, 3 LIMIT 500",
        ),
        "csm-denied-calls": (
            "Calls that were denied: what each workload is missing",
            f'SELECT {workload}, "service", {operation}, coalesce("error_code", "finalawsexception") AS error_code, '
            f'"denied_actions", count(*) AS calls, {days} {calls} AND {ARCHIVE_DENIED} GROUP BY 1, 2, 3, 4, 5 '
            "ORDER BY calls DESC",
        ),
        "csm-distinct-service-api-per-workload": (
            "Every operation each workload called: the raw material of its policy",
            f'SELECT {workload}, "service", {operation}, count(*) AS calls, {days} {calls} '
            "GROUP BY 1, 2, 3 ORDER BY 1, 2, 3",
        ),
    }


# --- alerts (the CDK app's EventBridge rule and its alertsRoleMap context) ----------------------------
EVENT_SOURCE = "csm-collector"  # EventBridge `source` of the collector's alerts
_ROLE = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]{1,512}")
_FUNCTION = re.compile(r"arn:aws[a-z-]*:lambda:[a-z0-9-]+:\d{12}:function:[\w-]{1,140}")


def role_mappings(text: str) -> tuple[tuple[str, str], ...]:
    """WORKLOAD=ARN, several separated by spaces: the role each workload runs as (an IAM role ARN, or a
    Lambda function ARN: its role). One flag or one environment variable can hold them all."""
    found = []
    for item in text.split():
        workload, _, arn = item.partition("=")
        if not workload or not (_ROLE.fullmatch(arn) or _FUNCTION.fullmatch(arn)):
            raise argparse.ArgumentTypeError(f"{item!r} is not WORKLOAD=ARN (an IAM role ARN or a Lambda function ARN)")
        found.append((workload, arn))
    if not found:
        raise argparse.ArgumentTypeError("expected WORKLOAD=ARN")
    return tuple(found)
