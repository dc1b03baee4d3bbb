"""A throwaway self-signed certificate for TLS tests on loopback (the sandbox's own)."""

from __future__ import annotations

import ssl
from pathlib import Path

from wallet.sandbox.tls import sandbox_certificate


def self_signed(
    tmp: Path, dns_names: tuple[str, ...] = ()
) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context for 127.0.0.1 (and ``dns_names``), and a client context that trusts
    it. The certificate goes to ``tmp / "cert.pem"``."""
    server, cert_file = sandbox_certificate(tmp, dns_names)
    client = ssl.create_default_context(cafile=str(cert_file))
    return server, client
