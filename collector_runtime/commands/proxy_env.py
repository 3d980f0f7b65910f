"""`csm-collector proxy-env`: the client set-up for the proxy, as POSIX `export` lines.

    eval "$(csm-collector proxy-env --workload ci-deploy)"

The CA is generated if it is missing, as the proxy would, so the lines always name existing files.
`SSL_CERT_FILE` and `REQUESTS_CA_BUNDLE` name the combined bundle (the system CAs plus the proxy's), so TLS
to hosts the proxy does not intercept still verifies. `AWS_CA_BUNDLE`, read only by AWS SDKs, names the
proxy's CA alone (`--aws-ca-bundle proxy-ca`): their hosts are AWS's, which the proxy intercepts, and
botocore (urllib3) loads the bundle again for every new connection, ~25 ms of CPU for the system's ~140
certificates against well under 1 ms for one. `--aws-ca-bundle combined` is for an SDK whose custom endpoint
is a host the proxy tunnels untouched (its real certificate).
"""

from __future__ import annotations

import logging
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, TextIO
from urllib.parse import quote

from ..errors import Failure
from ..settings import ProxyEnvOptions

if TYPE_CHECKING:
    from ..sources.proxy.ca import CaFiles

log = logging.getLogger("csm_collector")
# Never through the proxy: loopback, and the instance metadata and container credentials endpoints.
NO_PROXY = "localhost,127.0.0.1,::1,169.254.169.254,169.254.170.2,fd00:ec2::254"
TRUSTSTORE_PASSWORD = "changeit"  # the JDK's default cacerts password


def run(options: ProxyEnvOptions, out: TextIO) -> int:
    from ..sources.proxy.ca import CaError, prepare_ca  # mitmproxy is imported only to generate a CA

    try:
        certificate, bundle = _trusted(options, prepare_ca)
    except CaError as error:
        log.error("%s", error)
        return 1
    out.write(export_lines(options, str(certificate), str(bundle)))
    return 0


def _trusted(options: ProxyEnvOptions, prepare_ca: Callable[[Path], CaFiles]) -> tuple[Path, Path]:
    """The CA certificate clients trust and the combined bundle: a given certificate's, or the CA dir's."""
    from ..sources.proxy.ca import write_bundle
    from ..sources.proxy.ca_check import check_certificate

    if options.ca_certificate is None:
        ca = prepare_ca(options.ca_dir)
        check_certificate(ca.certificate, "the proxy CA certificate")
        return ca.certificate, ca.bundle
    certificate = options.ca_certificate.resolve()
    check_certificate(certificate, "--ca-certificate")
    try:
        return certificate, write_bundle(certificate.parent, certificate)
    except OSError as error:
        raise Failure(f"cannot write the CA bundle beside {certificate}: {error.strerror or error}") from error


def proxy_url(options: ProxyEnvOptions) -> str:
    """botocore sends the proxy user only with a non-empty password: `name:x@` (the password is ignored)."""
    user = f"{quote(options.workload, safe='')}:x@" if options.workload else ""
    host = f"[{options.host}]" if ":" in options.host else options.host
    return f"http://{user}{host}:{options.port}"


def export_lines(options: ProxyEnvOptions, certificate: str, bundle: str) -> str:
    url = proxy_url(options)
    variables = [
        ("HTTPS_PROXY", url),
        ("HTTP_PROXY", url),
        ("https_proxy", url),  # curl and some tools read only the lower-case names
        ("http_proxy", url),
        ("NO_PROXY", NO_PROXY),
        ("no_proxy", NO_PROXY),
        # botocore, AWS CLI, Go SDK v2 (which prefers it to SSL_CERT_FILE)
        ("AWS_CA_BUNDLE", bundle if options.aws_ca_bundle == "combined" else certificate),
        ("SSL_CERT_FILE", bundle),  # Go (Terraform), OpenSSL-based tools
        ("REQUESTS_CA_BUNDLE", bundle),  # Python requests
        ("NODE_EXTRA_CA_CERTS", certificate),  # Node.js, added to its own roots
    ]
    lines = [f"# csm-collector proxy at {options.host}:{options.port}; CA {certificate}"]
    lines += [f"export {name}={shlex.quote(value)}" for name, value in variables]
    keytool = (
        f"keytool -importcert -noprompt -cacerts -storepass {TRUSTSTORE_PASSWORD} "
        f"-alias csm-collector-proxy -file {shlex.quote(certificate)}"
    )
    lines += [
        "# Java (SDK v2 reads no PEM variable): add the CA to the JDK's truststore once, then set -Dhttps.proxyHost",
        f"#   {keytool}",
        f"#   export JAVA_TOOL_OPTIONS='-Dhttps.proxyHost={options.host} -Dhttps.proxyPort={options.port}'",
        "# JavaScript v3 ignores HTTPS_PROXY: pass a NodeHttpHandler with an https-proxy-agent (see docs/proxy.md)",
    ]
    return "\n".join(lines) + "\n"
