"""A throwaway TLS certificate for the sandbox's https servers on loopback.

Open Payments is https only, with no ``http:`` exception (wallet/openpayments/transport.py), so
the sandbox serves its wallet addresses over TLS with a self-signed certificate made at start-up
for ``127.0.0.1`` (and ``localhost``/``dns_names``), valid for a day. The certificate is its own
CA: hand its file to the client as the extra CA (``HttpTransport(extra_ca_file=...)``). The
private key lives only in memory once loaded: it is written to a private file for
``load_cert_chain`` and removed at once.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import ipaddress
import os
import ssl
import tempfile
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

__all__ = ["CERT_FILE", "ServedCertificate", "certificate_der", "sandbox_certificate"]

CERT_FILE = "cert.pem"


@dataclass(frozen=True)
class ServedCertificate:
    """The certificate (DER) an https server of the sandbox shows at ``origin``
    (``https://127.0.0.1:<port>``): what a browser may accept there, and only there."""

    origin: str
    der: bytes

    def __repr__(self) -> str:
        return f"ServedCertificate({self.origin!r}, sha256={self.sha256()[:16]}…)"

    def sha256(self) -> str:
        return hashlib.sha256(self.der).hexdigest()


def certificate_der(cert_file: Path) -> bytes:
    """The DER bytes of the (first) certificate in the PEM file ``cert_file``."""
    pem = x509.load_pem_x509_certificate(cert_file.read_bytes())
    return pem.public_bytes(serialization.Encoding.DER)


def sandbox_certificate(
    directory: Path, dns_names: tuple[str, ...] = ("localhost",)
) -> tuple[ssl.SSLContext, Path]:
    """A server TLS context for 127.0.0.1 and ``dns_names``, and the certificate file (its own
    CA) a client must trust; the file goes to ``directory``."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
                + [x509.DNSName(n) for n in dns_names]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / CERT_FILE
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    fd, key_path = tempfile.mkstemp(prefix="trickle-sandbox-", suffix=".pem")  # mode 0600
    try:
        with os.fdopen(fd, "wb") as key_file:
            key_file.write(key_pem)
        server.load_cert_chain(cert_file, key_path)
    finally:
        os.unlink(key_path)
    return server, cert_file
