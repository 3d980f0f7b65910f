"""How the EC2 collector's boot script tells CloudFormation whether the collector came up, as shell text.

The signal is a PUT of a small JSON document to the wait condition handle's presigned S3 URL, sent with
curl: no cfn-signal and no CloudFormation API call, so with `egress=endpoints` it needs only the S3 gateway
endpoint. SUCCESS once the service has been active and listening on its UDP port with the same main PID
for a few seconds in a row (a collector that binds and then exits, e.g. without boto3, never gets there);
FAILURE, with the reason and the collector's last log lines, when it does not within the timeout, or when
any boot step fails first (an EXIT trap). The reason also goes to the collector's log file (shipped to
CloudWatch) and to the boot script's output (the instance's console output). One signal per boot.
"""

from __future__ import annotations

import posixpath

SIGNAL_URL_VARIABLE = "CSM_SIGNAL_URL"
SIGNAL_UNIQUE_ID = "csm-collector"
READY_TIMEOUT_SECONDS = 120
STABLE_SECONDS = 5
LOG_LINES_IN_REASON = 5
REASON_MAX_CHARS = 1000

# argv: STATUS REASON -> the wait condition signal document (the reason shortened to what an event shows).
# Double quotes only: the shell passes it in single quotes.
_SIGNAL_DOCUMENT = (
    "import json, sys; "
    f'r = sys.argv[2] if len(sys.argv[2]) <= {REASON_MAX_CHARS} else sys.argv[2][: {REASON_MAX_CHARS - 3}] + "..."; '
    f'print(json.dumps({{"Status": sys.argv[1], "Reason": r, "UniqueId": "{SIGNAL_UNIQUE_ID}", "Data": r}}))'
)


def signal_setup(signal_url: str, log_file: str) -> list[str]:
    """The lines right after `set -euo pipefail`: the URL, `csm_signal`, and the traps that turn a failed
    step into a FAILURE signal naming it. `signal_url` may be a CDK token."""
    log_dir = posixpath.dirname(log_file)
    signal_function = f"""csm_signal() {{
  if [ -n "${{csm_signalled:-}}" ]; then return 0; fi
  csm_signalled=$1
  echo "csm-collector boot: $1: $2" >&2
  if [ -d {log_dir} ]; then echo "$(date -u +%Y-%m-%dT%H:%M:%SZ) csm-collector boot: $1: $2" >> {log_file} || true; fi
  python3 -c '{_SIGNAL_DOCUMENT}' "$1" "$2" \\
    | curl --silent --show-error --fail --retry 5 --retry-all-errors --max-time 30 \\
        --request PUT --header "Content-Type:" --data-binary @- "${SIGNAL_URL_VARIABLE}" \\
    || echo "csm-collector boot: could not send the $1 signal to CloudFormation" >&2
}}"""
    return [
        f"{SIGNAL_URL_VARIABLE}='{signal_url}'",
        signal_function,
        'csm_step="the start of the boot script"',
        "trap 'csm_step=$BASH_COMMAND' ERR",
        'trap \'csm_status=$?; if [ "$csm_status" -ne 0 ]; then '
        'csm_signal FAILURE "boot script failed (exit $csm_status) at: $csm_step"; fi\' EXIT',
    ]


def readiness_commands(
    *, service: str, port: int, log_file: str, timeout_seconds: int = READY_TIMEOUT_SECONDS
) -> list[str]:
    """The boot script's last lines: wait until the service is up, then signal SUCCESS, or FAILURE and exit 1."""
    wait_function = f"""csm_wait_until_listening() {{
  local waited=0 stable=0 pid="" current
  while [ "$waited" -lt {timeout_seconds} ]; do
    current=$(systemctl show --property=MainPID --value {service} 2>/dev/null || true)
    if systemctl is-active --quiet {service} && [ -n "$(ss -Hlun "sport = :{port}")" ] && [ "$current" != 0 ]; then
      if [ "$current" = "$pid" ]; then stable=$((stable + 1)); else pid=$current; stable=0; fi
      if [ "$stable" -ge {STABLE_SECONDS} ]; then return 0; fi
    else
      pid=""
      stable=0
    fi
    sleep 1
    waited=$((waited + 1))
  done
  return 1
}}"""
    last_lines = f"$(tail -n {LOG_LINES_IN_REASON} {log_file} 2>/dev/null | tr '\\n' ' ' || true)"
    failure = (
        f"{service} is not active and listening on UDP port {port} after {timeout_seconds} s "
        f"(systemd: $(systemctl is-active {service} || true)); its last log lines: {last_lines}"
    )
    return [
        'csm_step="waiting for the collector"',
        wait_function,
        "if csm_wait_until_listening; then",
        f'  csm_signal SUCCESS "{service} is active and listening on UDP port {port}"',
        "else",
        f'  csm_signal FAILURE "{failure}"',
        "  exit 1",
        "fi",
    ]
