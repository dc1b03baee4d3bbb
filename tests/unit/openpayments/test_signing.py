"""Request signing against the official client's own output (tests/vectors/openpayments/
signature-vectors.json, made by @interledger/open-payments 7.4.0), and verification failures."""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest

from tests.conftest import load_vectors
from wallet.openpayments.errors import OpenPaymentsError
from wallet.openpayments.signing import (
    ClientKey,
    InvalidJwkError,
    RequestSignatureError,
    SignedRequest,
    compact_json,
    public_key_from_jwk,
    sign_request,
    verify_request,
)

VECTORS: dict[str, Any] = load_vectors("openpayments/signature-vectors.json")
KEY = ClientKey.from_seed(bytes.fromhex(VECTORS["ed25519SeedHex"]), VECTORS["publicJwk"]["kid"])
CREATED: int = VECTORS["clockUnixSeconds"]
BASE = {"accept": "application/json", "content-type": "application/json"}


def _sign_case(case: dict[str, Any]) -> dict[str, str]:
    request = case["request"]
    authorization = request["headers"].get("authorization")
    body = request.get("body")
    return sign_request(
        KEY,
        request["method"],
        request["targetUri"],
        body=body.encode() if body is not None else None,
        access_token=authorization[len("GNAP ") :] if authorization else None,
        created=CREATED,
        extra_headers=BASE,
    )


def test_the_public_jwk_is_the_official_clients() -> None:
    assert KEY.public_jwk() == VECTORS["publicJwk"]


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_signatures_match_the_official_client_byte_for_byte(case: dict[str, Any]) -> None:
    sent = {k.lower(): v for k, v in _sign_case(case).items()}
    expected = case["request"]["headers"]
    for name, value in expected.items():
        if name == "content-length" and not case["request"].get("body"):
            continue  # the rotate case's "Content-Length: 0" came from the HTTP stack, not signed
        assert sent.get(name) == value, name
    assert ("content-digest" in sent) == ("content-digest" in expected)


@pytest.mark.parametrize("case", VECTORS["cases"], ids=lambda c: c["name"])
def test_what_we_sign_verifies(case: dict[str, Any]) -> None:
    request = case["request"]
    body = request.get("body")
    signed = SignedRequest(
        request["method"], request["targetUri"], _sign_case(case), body.encode() if body else None
    )
    kid, public = public_key_from_jwk(VECTORS["publicJwk"])
    now = dt.datetime.fromtimestamp(CREATED + 30, dt.UTC)
    verified = verify_request(signed, {kid: public}, now=now)
    assert verified.kid == kid and verified.created == CREATED
    assert verified.components[:2] == ("@method", "@target-uri")


def _grant_request(key: ClientKey = KEY, created: int = CREATED) -> SignedRequest:
    body = compact_json({"client": {"jwk": KEY.public_jwk()}, "note": "zürich"})
    url = "https://auth.example/tenant-1"
    headers = sign_request(key, "POST", url, body=body, created=created, extra_headers=BASE)
    return SignedRequest("POST", url, headers, body)


def _verify(request: SignedRequest, seconds_later: int = 1) -> None:
    kid, public = public_key_from_jwk(VECTORS["publicJwk"])
    verify_request(
        request, {kid: public}, now=dt.datetime.fromtimestamp(CREATED + seconds_later, dt.UTC)
    )


def test_verification_rejects_a_wrong_key_a_changed_body_and_a_stale_created() -> None:
    _verify(_grant_request())
    impostor = ClientKey.from_seed(bytes(range(32)), KEY.kid)
    with pytest.raises(RequestSignatureError):
        _verify(_grant_request(key=impostor))
    changed = _grant_request()
    changed.body = changed.body.replace(b"z\xc3\xbcrich", b"zurich!") if changed.body else None
    with pytest.raises(RequestSignatureError, match=r"(?i)digest"):
        _verify(changed)
    with pytest.raises(RequestSignatureError, match="created"):
        _verify(_grant_request(), seconds_later=3600)
    with pytest.raises(RequestSignatureError, match="created"):
        _verify(_grant_request(created=CREATED + 60))  # from the future


def test_verification_requires_authorization_to_be_covered() -> None:
    request = _grant_request()
    request.headers["authorization"] = "GNAP slipped-in-later"
    with pytest.raises(RequestSignatureError):
        _verify(request)


def test_compact_json_is_what_json_stringify_writes() -> None:
    assert compact_json({"b": 1, "a": ["ü", None]}) == '{"b":1,"a":["ü",null]}'.encode()


@pytest.mark.parametrize(
    "jwk",
    [
        "not an object",
        {"kty": "RSA", "kid": "k"},
        {
            "kty": "OKP",
            "crv": "X25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "kid": "k",
        },
        {"kty": "OKP", "crv": "Ed25519", "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo"},
        {
            "kty": "OKP",
            "crv": "Ed25519",
            "x": "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo",
            "kid": "k",
            "d": "x",
        },
        {"kty": "OKP", "crv": "Ed25519", "x": "!!", "kid": "k"},
    ],
)
def test_bad_jwks_are_named_errors(jwk: object) -> None:
    with pytest.raises(InvalidJwkError):
        public_key_from_jwk(jwk)


def test_keys_are_fresh_and_never_shown() -> None:
    one, two = ClientKey.generate(), ClientKey.generate()
    assert one.kid != two.kid and one.public_jwk()["x"] != two.public_jwk()["x"]
    assert repr(one) == f"ClientKey(kid={one.kid!r})"
    assert "d" not in one.public_jwk()


def test_a_token_with_a_newline_cannot_be_signed() -> None:
    with pytest.raises(OpenPaymentsError) as caught:
        sign_request(KEY, "GET", "https://rs.example/x", access_token="tok\nen", created=CREATED)
    assert "tok" not in str(caught.value)
