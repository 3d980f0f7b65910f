"""The proxy's CA kept in a Secrets Manager secret (the deployed proxy, `--ca-secret`): a replaced task or
instance keeps the CA its clients trust.

At start the secret is read: if it holds a CA (mitmproxy's `mitmproxy-ca.pem`: key and certificate, PEM), it
replaces the CA directory's; otherwise (a new secret holds a random placeholder) the CA is generated and
stored in the secret. The key is written only to the 0600 file and the secret, never logged.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from collector_runtime.sources.proxy.ca import BASENAME, CERTIFICATE_FILE, KEY_FILES, prepare_ca

_CERTIFICATE = re.compile(r"-----BEGIN CERTIFICATE-----.+?-----END CERTIFICATE-----\n?", re.DOTALL)
_STALE = (f"{BASENAME}-ca.p12", f"{BASENAME}-ca-cert.p12", f"{BASENAME}-ca-cert.cer")  # would hold another CA


def holds_ca(value: str) -> bool:
    return "PRIVATE KEY-----" in value and bool(_CERTIFICATE.search(value))


def sync_ca(directory: Path, secret_id: str, client: Any) -> str:
    """Load the CA from the secret, or generate it and store it there: "loaded" or "stored"."""
    value = client.get_secret_value(SecretId=secret_id).get("SecretString") or ""
    if holds_ca(value):
        install_ca(directory, value)
        return "loaded"
    prepare_ca(directory)
    client.put_secret_value(SecretId=secret_id, SecretString=(directory / KEY_FILES[0]).read_text())
    return "stored"


def install_ca(directory: Path, pem: str) -> None:
    """Write a CA (key and certificate) as mitmproxy reads it, the key file 0600 from its first byte."""
    directory.mkdir(parents=True, exist_ok=True)
    directory.chmod(0o700)
    key_file = directory / KEY_FILES[0]
    key_file.touch(mode=0o600)
    key_file.chmod(0o600)
    key_file.write_text(pem)
    certificate = _CERTIFICATE.search(pem)
    assert certificate is not None  # holds_ca checked it
    (directory / CERTIFICATE_FILE).write_text(certificate.group(0))
    for name in _STALE:
        (directory / name).unlink(missing_ok=True)
