"""STREAM cryptography (RFC 29 §5.1 and §6).

Owns: key derivation, AES-256-GCM in STREAM's ``nonce(12) | tag(16) | ciphertext`` layout
(no AAD), fulfillment and condition generation, random (unfulfillable) conditions.

Nothing here draws randomness itself: nonces and random conditions come from a
``random_bytes`` callable the caller injects (``os.urandom`` in production), so tests are
deterministic.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from wallet.stream.errors import DecryptionError

__all__ = [
    "ENCRYPTION_OVERHEAD",
    "NONCE_LENGTH",
    "TAG_LENGTH",
    "RandomBytes",
    "StreamKeys",
    "condition_of",
    "decrypt",
    "encrypt",
    "encryption_key",
    "fulfillment_key",
    "generate_fulfillment",
    "hmac_sha256",
    "incoming_packet_id",
    "random_condition",
    "sha256",
]

RandomBytes = Callable[[int], bytes]

NONCE_LENGTH = 12
TAG_LENGTH = 16
ENCRYPTION_OVERHEAD = NONCE_LENGTH + TAG_LENGTH

ENCRYPTION_KEY_STRING = b"ilp_stream_encryption"
FULFILLMENT_KEY_STRING = b"ilp_stream_fulfillment"


def hmac_sha256(key: bytes, message: bytes) -> bytes:
    return hmac.digest(key, message, "sha256")


def sha256(data: bytes) -> bytes:
    return hashlib.sha256(data).digest()


def encryption_key(shared_secret: bytes) -> bytes:
    """RFC 29 §5.1.2: ``encryption_key = hmac_sha256(shared_secret, "ilp_stream_encryption")``."""
    return hmac_sha256(shared_secret, ENCRYPTION_KEY_STRING)


def fulfillment_key(shared_secret: bytes) -> bytes:
    """RFC 29 §6.2: ``hmac_key = hmac_sha256(shared_secret, "ilp_stream_fulfillment")``."""
    return hmac_sha256(shared_secret, FULFILLMENT_KEY_STRING)


def generate_fulfillment(fulfillment_key_: bytes, data: bytes) -> bytes:
    """RFC 29 §6.3: ``fulfillment = hmac_sha256(hmac_key, data)``; data = the *encrypted* packet."""
    return hmac_sha256(fulfillment_key_, data)


def incoming_packet_id(shared_secret: bytes, sequence: int) -> bytes:
    """ilp-protocol-stream's id for an incoming packet (its ``shouldFulfill`` hook), not RFC:
    ``HMAC-SHA256(shared_secret, "ilp_stream_packet_id" | sequence as UInt64 BE)``. Useful to
    a driver that must give an application the same idempotency key the JS server would."""
    return hmac_sha256(shared_secret, b"ilp_stream_packet_id" + sequence.to_bytes(8, "big"))


def condition_of(fulfillment: bytes) -> bytes:
    """RFC 29 §6.2: ``condition = sha256(fulfillment)``."""
    return hashlib.sha256(fulfillment).digest()


def random_condition(random_bytes: RandomBytes) -> bytes:
    """RFC 29 §6.1: ``condition = random_bytes(32)`` — nobody can fulfill it."""
    return random_bytes(32)


def encrypt(key: bytes, plaintext: bytes, nonce: bytes) -> bytes:
    """AES-256-GCM, no AAD, as ``nonce | tag | ciphertext`` (RFC 29 §5.1.1)."""
    return _seal(AESGCM(key), plaintext, nonce)


def decrypt(key: bytes, data: bytes) -> bytes:
    """Inverse of :func:`encrypt`.

    Raises:
        DecryptionError: too short, or the tag does not verify.
    """
    return _open(AESGCM(key), data)


def _seal(aead: AESGCM, plaintext: bytes, nonce: bytes) -> bytes:
    if len(nonce) != NONCE_LENGTH:
        raise ValueError("STREAM nonces are 12 bytes")
    # cryptography returns ciphertext | tag; STREAM puts the tag first.
    sealed = aead.encrypt(nonce, plaintext, None)
    return b"".join((nonce, sealed[-TAG_LENGTH:], sealed[:-TAG_LENGTH]))


def _open(aead: AESGCM, data: bytes) -> bytes:
    if len(data) < ENCRYPTION_OVERHEAD:
        raise DecryptionError("STREAM data shorter than nonce and tag")
    nonce = data[:NONCE_LENGTH]
    tag = data[NONCE_LENGTH:ENCRYPTION_OVERHEAD]
    try:
        return aead.decrypt(nonce, data[ENCRYPTION_OVERHEAD:] + tag, None)
    except InvalidTag as e:
        raise DecryptionError("STREAM data does not decrypt with this shared secret") from e


class StreamKeys:
    """The keys derived from one shared secret, with the AES context built once.

    Holds key material in memory only (DESIGN: shared secrets are never written).
    """

    __slots__ = ("_aead", "_fulfillment_key", "encryption_key")

    def __init__(self, shared_secret: bytes) -> None:
        if not shared_secret:
            raise ValueError("empty shared secret")
        self.encryption_key = encryption_key(shared_secret)
        self._fulfillment_key = fulfillment_key(shared_secret)
        self._aead = AESGCM(self.encryption_key)

    def __repr__(self) -> str:  # never print key material
        return "StreamKeys(<hidden>)"

    def encrypt(self, plaintext: bytes, nonce: bytes) -> bytes:
        return _seal(self._aead, plaintext, nonce)

    def decrypt(self, data: bytes) -> bytes:
        """Raises: DecryptionError."""
        return _open(self._aead, data)

    def fulfillment(self, data: bytes) -> bytes:
        return hmac.digest(self._fulfillment_key, data, "sha256")

    def condition(self, data: bytes) -> bytes:
        return hashlib.sha256(hmac.digest(self._fulfillment_key, data, "sha256")).digest()
