"""Whether a CA certificate (and the proxy's key) can be used, checked before the proxy starts or
`proxy-env` prints anything: a file that holds no certificate is bad input (exit 2, one line naming it),
never a proxy whose every TLS handshake fails or export lines that point clients at garbage."""

from __future__ import annotations

import ssl
from pathlib import Path

from ...errors import BadInput


def check_certificate(path: Path, what: str) -> None:
    """BadInput unless `path` is a regular file holding a PEM certificate OpenSSL can load."""
    if path.exists() and not path.is_file():  # a directory; a FIFO would block the read
        raise BadInput(f"{what} {path} is not a regular file")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT).load_verify_locations(cafile=str(path))
    except ssl.SSLError as error:
        raise BadInput(f"{what} {path} holds no PEM certificate OpenSSL can read ({error.reason})") from error
    except OSError as error:
        raise BadInput(f"cannot read {what} {path}: {error.strerror or error}") from error


def check_ca_key(key_file: Path) -> None:
    """BadInput unless `key_file` (mitmproxy's `mitmproxy-ca.pem`: the key, then the certificate) loads as
    mitmproxy will load it."""
    from cryptography import x509
    from cryptography.hazmat.primitives.serialization import load_pem_private_key

    try:
        raw = key_file.read_bytes()
        load_pem_private_key(raw, None)
        x509.load_pem_x509_certificates(raw)
    except (ValueError, TypeError) as error:
        reason = error.args[0] if error.args and isinstance(error.args[0], str) else type(error).__name__
        raise BadInput(
            f"the proxy CA key {key_file} cannot be used ({reason.split('.')[0]}): restore it, or remove the "
            "directory to generate a new CA (clients must then trust the new one)"
        ) from error
    except OSError as error:
        raise BadInput(f"cannot read the proxy CA key {key_file}: {error.strerror or error}") from error
