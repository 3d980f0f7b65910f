"""The mitmproxy addon that gives every bucket of an S3 endpoint one certificate.

mitmproxy signs a certificate for each host it has not seen, and Terraform makes a new bucket host per apply
(`terraform-<timestamp>.s3.<region>.amazonaws.com`): one signing with the CA's key per bucket. Before the
handshake, a one-label bucket's endpoint gets a `*.<endpoint>` certificate in mitmproxy's store, which its
lookup (it tries a host's asterisk forms) then finds for every bucket there. mitmproxy would also answer a
dotted bucket (`www.example.com.s3...`, which a one-label wildcard does not cover) with that wildcard, so
such a host gets an exact certificate of its own first (kept within mitmproxy's cache bound).
"""

from __future__ import annotations

from typing import Any

from cryptography import x509
from mitmproxy import certs, ctx, tls

from collector_runtime.sources.proxy.s3_hosts import bucket_in_host, wildcard_family


class SharedCertificates:
    def tls_clienthello(self, data: tls.ClientHelloData) -> None:
        host = data.client_hello.sni
        if not host or bucket_in_host(host) is None:
            return
        tlsconfig: Any = ctx.master.addons.get("tlsconfig")  # type: ignore[no-untyped-call]
        store: certs.CertStore = tlsconfig.certstore
        wildcard = wildcard_family(host)
        name = wildcard or host
        if name not in store.certs:
            entry = _signed(store, name)
            store.add_cert(entry, name)
            if wildcard is None:
                store.expire(entry)


def _signed(store: certs.CertStore, name: str) -> certs.CertStoreEntry:
    key, chain = store.default_privatekey, store.default_chain_certs
    certificate = certs.dummy_cert(key, store.default_ca._cert, name, [x509.DNSName(name)])
    return certs.CertStoreEntry(certificate, key, store.default_chain_file, chain)
