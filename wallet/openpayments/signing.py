"""HTTP Message Signatures (RFC 9421) and Content-Digest (RFC 9530) as Open Payments uses them.

Built on two maintained libraries rather than our own crypto code: ``joserfc`` makes and reads
the Ed25519 JWKs (RFC 8037 OKP keys) and ``http-message-signatures`` builds the signature base,
signs, verifies and computes ``Content-Digest``. What is ours is the profile, taken from the
official client (``@interledger/http-signature-utils`` 2.0.3, ``utils/signatures.ts`` and
``utils/headers.ts``) and checked byte for byte against the vectors it produced
(``tests/vectors/openpayments/signature-vectors.json``):

* label ``sig1``; parameters ``keyid`` then ``created`` and nothing else ("no ``alg``, no
  ``expires``");
* covered components ``"@method" "@target-uri"``, then ``"authorization"`` when that header is
  sent, then ``"content-digest" "content-length" "content-type"`` when there is a body;
* a body goes with ``Content-Type: application/json``, ``Content-Length`` and
  ``Content-Digest: sha-512=:<base64>:``, and is compact JSON with no ``\\u`` escapes, because
  Rafiki checks the digest over ``JSON.stringify(<parsed body>)`` (OPEN-PAYMENTS-NOTES §3).

:class:`ClientKey` holds a private key in memory only; its ``repr`` shows the ``kid`` alone.
"""

from __future__ import annotations

import base64
import collections
import datetime as dt
import json
import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import http_sf
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from http_message_signatures import (
    ContentDigest,
    HTTPMessageSignaturesException,
    HTTPMessageSigner,
    HTTPMessageVerifier,
    HTTPSignatureKeyResolver,
    InvalidSignature,
    PreparedSignature,
    algorithms,
)
from joserfc.jwk import OKPKey

from wallet.openpayments.errors import OpenPaymentsError

__all__ = [
    "ClientKey",
    "InvalidJwkError",
    "RequestSignatureError",
    "SignedRequest",
    "VerifiedSignature",
    "compact_json",
    "public_key_from_jwk",
    "sign_request",
    "verify_request",
]

LABEL = "sig1"
_BODY_COMPONENTS = ("content-digest", "content-length", "content-type")


class InvalidJwkError(OpenPaymentsError, ValueError):
    """A JWK that is not an Ed25519 public key (``kty: OKP``, ``crv: Ed25519``, ``x``)."""


class RequestSignatureError(OpenPaymentsError):
    """A request's signature or Content-Digest does not verify (server side)."""


def compact_json(doc: object) -> bytes:
    """JSON exactly as ``JSON.stringify`` writes it for our bodies: compact, key order kept,
    non-ASCII as itself (OPEN-PAYMENTS-NOTES §3: other spellings fail Rafiki's digest check)."""
    return json.dumps(doc, separators=(",", ":"), ensure_ascii=False).encode()


@dataclass(frozen=True)
class ClientKey:
    """An Ed25519 key pair with its key id; lives in memory only, never written anywhere."""

    kid: str
    _private: Ed25519PrivateKey = field(repr=False)

    @classmethod
    def generate(cls, kid: str | None = None) -> ClientKey:
        """A fresh key (one per grant, as a directed-identity client uses them)."""
        kid = kid or "trickle-" + secrets.token_urlsafe(12)
        jwk = OKPKey.generate_key("Ed25519", private=True)
        private = jwk.private_key
        assert isinstance(private, Ed25519PrivateKey)
        return cls(kid, private)

    @classmethod
    def from_seed(cls, seed: bytes, kid: str) -> ClientKey:
        """The key for a 32-byte RFC 8032 seed (test vectors)."""
        return cls(kid, Ed25519PrivateKey.from_private_bytes(seed))

    def public_jwk(self) -> dict[str, str]:
        """``{"kty":"OKP","crv":"Ed25519","x":…,"kid":…,"alg":"EdDSA"}`` (FLOWS "Public key
        representations"; http-signature-utils ``generateJwk``)."""
        public = OKPKey.import_key(self._private.public_key())
        doc = public.as_dict(private=False)
        return {"kty": "OKP", "crv": "Ed25519", "x": str(doc["x"]), "kid": self.kid, "alg": "EdDSA"}

    def sign(self, data: bytes) -> bytes:
        return self._private.sign(data)


def public_key_from_jwk(jwk: object) -> tuple[str, Ed25519PublicKey]:
    """``(kid, key)`` from a client's public JWK.

    Raises:
        InvalidJwkError: not an object, not OKP/Ed25519, a private key, or no ``kid``.
    """
    if not isinstance(jwk, Mapping):
        raise InvalidJwkError("the JWK is not a JSON object")
    if jwk.get("kty") != "OKP" or jwk.get("crv") != "Ed25519":
        raise InvalidJwkError("the JWK is not an Ed25519 (OKP) key")
    if "d" in jwk:
        raise InvalidJwkError("the JWK carries a private key")
    kid = jwk.get("kid")
    if not isinstance(kid, str) or not kid:
        raise InvalidJwkError("the JWK has no kid")
    try:
        key = OKPKey.import_key(dict(jwk)).public_key
    except (ValueError, TypeError, KeyError) as e:
        raise InvalidJwkError(f"the JWK is not a valid Ed25519 key ({type(e).__name__})") from e
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidJwkError("the JWK is not an Ed25519 key")
    return kid, key


@dataclass
class SignedRequest:
    """A request as the library sees it: upper-case method, the exact URL, mutable headers."""

    method: str
    url: str
    headers: dict[str, str]
    body: bytes | None = None


class _Sha512Digest(ContentDigest):
    algorithm = "sha-512"  # what http-signature-utils' createContentHeaders sends


class _OpenPaymentsSigner(HTTPMessageSigner):
    """The library's signer with the official client's parameter order (``keyid`` first).

    The library writes ``created`` before ``keyid``; a verifier does not care (the order is
    signed as sent), but the official client writes ``keyid;created`` and we match it byte for
    byte. Component resolution, the base, its checks and the digest are the library's own code.
    """

    content_digest_class = _Sha512Digest

    def __init__(self) -> None:
        super().__init__(signature_algorithm=algorithms.ED25519)
        self._components: dict[tuple[str, ...], list[Any]] = {}

    def prepare_open_payments(
        self, message: SignedRequest, *, key_id: str, created: int, components: tuple[str, ...]
    ) -> PreparedSignature:
        params: dict[str, Any] = collections.OrderedDict(keyid=key_id, created=created)
        if message.body is not None:
            self.content_digest_class.prepare(
                message.headers, message.body, use_existing_digest=False
            )
        base, params_node, _ = self._build_signature_base(
            message, covered_component_ids=self._parsed(components), signature_params=params
        )
        return PreparedSignature(
            base.encode(), str(params_node), LABEL, self.signature_algorithm.algorithm_id
        )

    def _parsed(self, components: tuple[str, ...]) -> list[Any]:
        """The component ids as the library's nodes, parsed once per list (we sign with four
        lists; the nodes are only read)."""
        nodes = self._components.get(components)
        if nodes is None:
            nodes = self._components[components] = self._parse_covered_component_ids(  # type: ignore[no-untyped-call]
                list(components)
            )
        return list(nodes)


_SIGNER = _OpenPaymentsSigner()
_COMPONENTS = ("@method", "@target-uri")
_WITH_TOKEN = ("authorization",)


def sign_request(
    key: ClientKey,
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    access_token: str | None = None,
    created: int,
    extra_headers: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The headers to send with a signed Open Payments request.

    ``url`` must be the URL actually requested (Rafiki rebuilds ``@target-uri`` from what it
    receives); ``created`` is Unix seconds from the caller's clock.
    """
    headers: dict[str, str] = dict(extra_headers or {})
    components: tuple[str, ...] = _COMPONENTS
    if access_token is not None:
        headers["authorization"] = f"GNAP {access_token}"
        components += _WITH_TOKEN
    if body is not None:
        headers["content-type"] = "application/json"
        headers["content-length"] = str(len(body))
        components += _BODY_COMPONENTS
    message = SignedRequest(method.upper(), url, headers, body)
    try:
        prepared = _SIGNER.prepare_open_payments(
            message, key_id=key.kid, created=created, components=components
        )
    except HTTPMessageSignaturesException as e:
        raise OpenPaymentsError(f"cannot sign the request to {url}: {e}") from e
    signature = key.sign(prepared.signature_base)
    # Both fields are Structured Field Dictionaries with the one member ``sig1`` (RFC 9421
    # §4.1, §4.2): its value in Signature-Input is the inner list the library serialized for
    # the base ("@signature-params"), in Signature a Byte Sequence, ":" base64 ":" (RFC 8941
    # §4.1.8). We write them from the prepared signature rather than through the library's
    # ``apply``, which resolves every component and rebuilds the base a second time to notice a
    # message changed by a slow external signer; ours signs in between, on the same message.
    headers["signature-input"] = f"{LABEL}={prepared.signature_params}"
    headers["signature"] = f"{LABEL}=:{base64.b64encode(signature).decode('ascii')}:"
    return headers


@dataclass(frozen=True)
class VerifiedSignature:
    """What a verified request was signed with."""

    kid: str
    created: int
    components: tuple[str, ...]


def verify_request(
    request: SignedRequest,
    keys: Mapping[str, Ed25519PublicKey],
    *,
    now: dt.datetime,
    max_age: dt.timedelta = dt.timedelta(minutes=5),
) -> VerifiedSignature:
    """Verify a request the way Rafiki's middleware does (http-signature-utils
    ``validateSignatureHeaders`` + ``validateSignature``), plus a freshness check on ``created``.

    Required: ``@method`` and ``@target-uri`` covered; ``authorization`` covered when sent; with
    a body, ``content-digest``, ``content-length`` and ``content-type`` covered and the digest
    matching the body.

    Raises:
        RequestSignatureError: anything missing, stale, unknown key or not verifying.
    """
    required = ["@method", "@target-uri"]
    lowered = {k.lower(): v for k, v in request.headers.items()}
    if "authorization" in lowered:
        required.append("authorization")
    if request.body:
        required.extend(_BODY_COMPONENTS)

    class _Keys(HTTPSignatureKeyResolver):
        def resolve_public_key(self, key_id: str) -> Ed25519PublicKey:
            if key_id not in keys:
                raise InvalidSignature(f"unknown keyid {key_id!r}")
            return keys[key_id]

        def resolve_private_key(self, key_id: str) -> None:
            raise NotImplementedError

    class _Clocked(HTTPMessageVerifier):
        content_digest_class = _Sha512Digest

        def validate_created_and_expires(self, sig_input: Any, max_age: Any = None) -> None:
            pass  # the library reads the wall clock; `created` is checked above, on ours

    verifier = _Clocked(signature_algorithm=algorithms.ED25519, key_resolver=_Keys())
    created = _created_param(lowered.get("signature-input", ""))
    if created is None:
        raise RequestSignatureError("the signature has no created parameter", url=request.url)
    age = now - dt.datetime.fromtimestamp(created, dt.UTC)
    if age > max_age or age < -dt.timedelta(seconds=5):
        raise RequestSignatureError(f"the signature's created time is {age} away", url=request.url)
    try:
        results = verifier.verify(
            request,
            max_age=None,
            expect_tag=None,
            require_components=required,
            body=request.body if request.body else None,
        )
    except (InvalidSignature, HTTPMessageSignaturesException) as e:
        raise RequestSignatureError(f"invalid signature: {e}", url=request.url) from e
    result = results[0]
    return VerifiedSignature(
        str(result.parameters["keyid"]),
        created,
        tuple(k.strip('"') for k in result.covered_components),
    )


def _created_param(signature_input: str) -> int | None:
    try:
        parsed = http_sf.parse(signature_input.encode(), tltype="dictionary")
    except (ValueError, TypeError):
        return None
    member = parsed.get(LABEL) if isinstance(parsed, dict) else None
    if not isinstance(member, tuple):
        return None
    created = member[1].get("created")
    return created if type(created) is int else None
