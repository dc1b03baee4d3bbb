"""Per-connection credentials for a STREAM server (RFC 29 §4.1), Trickle's own scheme.

RFC 29 §4.1: "a server MAY deterministically generate the shared secret for each connection
from a single server secret and a nonce appended to the ILP Address given to a particular
client, for example by using an HMAC." ilp-protocol-stream's token format is private to it
(WIRE-NOTES §6.1); senders never see inside, so Trickle uses its own:

* ``token = nonce(12) | tag(16) | AES-256-GCM(token_key, nonce, body)`` with
  ``token_key = HMAC-SHA256(server_secret, "trickle_stream_token")`` and
  ``body = 0x01 | var-string connection_tag | var-octet receipt_nonce | var-octet receipt_secret``
  — stateless, and the receipt secret is encrypted as RFC 39 requires when it rides in the
  address.
* ``destination_account = base_address + "." + base64url(token)`` (no padding; the alphabet is
  valid in ILP address segments).
* ``shared_secret = HMAC-SHA256(HMAC-SHA256(server_secret, "ilp_stream_shared_secret"), token)``
  — the same derivation ilp-protocol-stream uses (``stream-crypto.json``).

:func:`lookup_credentials` reverses it from a Prepare's destination; ``None`` means "not one of
ours" — the driver answers F02, as the JS server does (WIRE-NOTES §6.9).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from wallet.ilp.errors import CodecError
from wallet.ilp.oer import Reader, encode_var_octet_string
from wallet.stream.crypto import RandomBytes, StreamKeys, hmac_sha256
from wallet.stream.errors import DecryptionError

__all__ = [
    "ServerCredentials",
    "generate_credentials",
    "lookup_credentials",
    "shared_secret_from_token",
]

_TOKEN_VERSION = 1


@dataclass(frozen=True, slots=True)
class ServerCredentials:
    """What a client gets over SPSP (address + secret), and what the server recovers."""

    destination_account: str
    shared_secret: bytes
    connection_tag: str | None = None
    receipt_nonce: bytes | None = None
    receipt_secret: bytes | None = None

    def __repr__(self) -> str:  # never print secrets
        return f"ServerCredentials({self.destination_account!r}, tag={self.connection_tag!r})"


def shared_secret_from_token(server_secret: bytes, token: bytes) -> bytes:
    """``HMAC(HMAC(server_secret, "ilp_stream_shared_secret"), token)``."""
    return hmac_sha256(hmac_sha256(server_secret, b"ilp_stream_shared_secret"), token)


def _token_keys(server_secret: bytes) -> StreamKeys:
    return StreamKeys(hmac_sha256(server_secret, b"trickle_stream_token"))


def generate_credentials(
    server_secret: bytes,
    base_address: str,
    random_bytes: RandomBytes,
    *,
    connection_tag: str | None = None,
    receipt_nonce: bytes | None = None,
    receipt_secret: bytes | None = None,
) -> ServerCredentials:
    """Fresh credentials for one connection.

    Raises:
        ValueError: only one of the receipt nonce/secret, or a nonce that is not 16 bytes.
    """
    if (receipt_nonce is None) != (receipt_secret is None):
        raise ValueError("receipts need both a nonce and a secret")
    if receipt_nonce is not None and len(receipt_nonce) != 16:
        raise ValueError("a receipt nonce is 16 bytes")
    body = b"".join(
        (
            bytes((_TOKEN_VERSION,)),
            encode_var_octet_string((connection_tag or "").encode("utf-8")),
            encode_var_octet_string(receipt_nonce or b""),
            encode_var_octet_string(receipt_secret or b""),
        )
    )
    token = _token_keys(server_secret).encrypt(body, random_bytes(12))
    segment = base64.urlsafe_b64encode(token).rstrip(b"=").decode("ascii")
    return ServerCredentials(
        f"{base_address}.{segment}",
        shared_secret_from_token(server_secret, token),
        connection_tag,
        receipt_nonce,
        receipt_secret,
    )


def lookup_credentials(
    server_secret: bytes, base_address: str, destination: str
) -> ServerCredentials | None:
    """The credentials behind ``destination`` (extra segments after the token are allowed,
    RFC 29 §4.2), or ``None`` if it is not an address this server secret issued."""
    prefix = base_address + "."
    if not destination.startswith(prefix):
        return None
    segment = destination[len(prefix) :].split(".", 1)[0]
    try:
        token = base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))
        body = _token_keys(server_secret).decrypt(token)
        r = Reader(body)
        if r.read_uint8("version") != _TOKEN_VERSION:
            return None
        tag = r.read_var_string("connection tag")
        nonce = r.read_var_octet_string("receipt nonce")
        secret = r.read_var_octet_string("receipt secret")
    except (binascii.Error, ValueError, DecryptionError, CodecError):
        return None
    return ServerCredentials(
        f"{prefix}{segment}",
        shared_secret_from_token(server_secret, token),
        tag or None,
        nonce or None,
        secret or None,
    )
