"""An Open Payments client for what a paying browser needs: wallet address → non-interactive
incoming-payment grant (directed identity) → incoming payment (create, get, complete) → cancel.

Requests as the official client makes them (OPEN-PAYMENTS-NOTES §1–§5; ``@interledger/open-
payments`` 7.4.0 ``client/requests.ts``): every request sends ``Accept: application/json`` and
``Content-Type: application/json``; the wallet-address GET is unsigned; every POST and every
request with ``Authorization: GNAP <token>`` is signed (:mod:`wallet.openpayments.signing`).
"Directed identity": the grant request carries ``client: {jwk}``, a fresh Ed25519 key per
grant, kept in memory only (in the :class:`~wallet.openpayments.models.Grant`); the resource
server accepts a signature whose ``keyid`` is that JWK's ``kid``.

Errors: 404 → :class:`NotFoundError`; a 2xx that is not ``application/json`` or not JSON →
:class:`NotJsonError`; JSON of the wrong shape → :class:`InvalidResponseError`; a refused grant
or one that wants interaction → :class:`GrantRefusedError`; a rejected signature →
:class:`SignatureError`; other non-2xx → :class:`ServerRefusedError` (with the GNAP error code).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Mapping
from typing import Any, Final

from wallet.openpayments.errors import (
    GrantRefusedError,
    InvalidResponseError,
    NotFoundError,
    NotJsonError,
    ServerRefusedError,
    SignatureError,
)
from wallet.openpayments.models import (
    Amount,
    Grant,
    IncomingPayment,
    WalletAddress,
    format_timestamp,
)
from wallet.openpayments.signing import ClientKey, compact_json, sign_request
from wallet.openpayments.transport import HttpResponse, Transport, require_https
from wallet.secrets import Secret

__all__ = ["INCOMING_PAYMENT_LIFETIME", "OpenPaymentsClient"]

JSON: Final = "application/json"
# The Web Monetization extension's choice for continuous payments (OPEN-PAYMENTS-NOTES §7).
INCOMING_PAYMENT_LIFETIME: Final = dt.timedelta(minutes=10)
_BASE_HEADERS: Final = {"accept": JSON, "content-type": JSON}
_JSON_TYPES: Final = (JSON, "application/problem+json")


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class OpenPaymentsClient:
    """Talks to wallet, auth and resource servers over ``transport`` (https only).

    ``clock`` gives the signatures' ``created`` time and the incoming payments' ``expiresAt``.
    """

    def __init__(
        self, transport: Transport, *, clock: Callable[[], dt.datetime] = _utc_now
    ) -> None:
        self._transport = transport
        self._clock = clock

    def now(self) -> dt.datetime:
        """The client's clock (what ``created`` and ``expiresAt`` are computed from)."""
        return self._clock()

    # -- wallet address -------------------------------------------------------------------

    async def get_wallet_address(self, url: str) -> WalletAddress:
        """GET a wallet address (``Accept: application/json``, unsigned)."""
        require_https(url, "wallet address")
        response = await self._transport.request("GET", url, {"accept": JSON}, None)
        return WalletAddress.parse(self.read_json(response, url, "wallet address"))

    # -- grants ---------------------------------------------------------------------------

    async def request_incoming_payment_grant(
        self,
        wallet: WalletAddress,
        *,
        actions: tuple[str, ...] = ("create", "read", "complete"),
        key: ClientKey | None = None,
    ) -> Grant:
        """A non-interactive ``incoming-payment`` grant for ``wallet``, as a directed-identity
        client (a fresh key unless ``key`` is given).

        Raises:
            GrantRefusedError: refused, or the server wants user interaction.
        """
        key = key or ClientKey.generate()
        body = {
            "access_token": {
                "access": [
                    {"type": "incoming-payment", "actions": list(actions), "identifier": wallet.id}
                ]
            },
            "client": {"jwk": key.public_jwk()},
        }
        url = wallet.auth_server
        try:
            response = await self.signed(key, "POST", url, body=body)
            doc = self.read_json(response, url, "grant request")
        except ServerRefusedError as e:
            raise GrantRefusedError(
                f"the auth server refused the grant: {e}", url=url, status=e.status, code=e.code
            ) from e
        if isinstance(doc, Mapping) and "interact" in doc and "access_token" not in doc:
            raise GrantRefusedError(
                "the auth server wants the user to approve an incoming-payment grant", url=url
            )
        return Grant.parse(doc, key)

    async def cancel_grant(self, grant: Grant) -> None:
        """``DELETE <continue uri>`` with the continue token (204)."""
        response = await self.signed(
            grant.key, "DELETE", grant.continue_uri, token=grant.continue_token
        )
        self.expect_ok(response, grant.continue_uri, "grant cancel")

    # -- incoming payments ----------------------------------------------------------------

    async def create_incoming_payment(
        self,
        wallet: WalletAddress,
        grant: Grant,
        *,
        lifetime: dt.timedelta | None = INCOMING_PAYMENT_LIFETIME,
        incoming_amount: Amount | None = None,
        metadata: Mapping[str, Any] | None = None,
    ) -> IncomingPayment:
        """``POST <resourceServer>/incoming-payments`` (201), expiring after ``lifetime``."""
        body: dict[str, Any] = {"walletAddress": wallet.id}
        if incoming_amount is not None:
            body["incomingAmount"] = incoming_amount.to_json()
        if lifetime is not None:
            body["expiresAt"] = format_timestamp(self._clock() + lifetime)
        if metadata is not None:
            body["metadata"] = dict(metadata)
        url = wallet.resource_server.rstrip("/") + "/incoming-payments"
        response = await self.signed(grant.key, "POST", url, body=body, token=grant.access_token)
        return IncomingPayment.parse(self.read_json(response, url, "incoming payment"))

    async def get_incoming_payment(self, url: str, grant: Grant) -> IncomingPayment:
        """Signed ``GET <incoming payment id>``: the full object, with fresh ``methods``."""
        require_https(url, "incoming payment")
        response = await self.signed(grant.key, "GET", url, token=grant.access_token)
        return IncomingPayment.parse(self.read_json(response, url, "incoming payment"))

    async def get_public_received_amount(self, url: str) -> Amount | None:
        """Unsigned ``GET <incoming payment id>``: what anyone may read without a grant,
        ``{"receivedAmount", "authServer"}`` (``receivedAmount`` is optional in the spec)."""
        require_https(url, "incoming payment")
        response = await self._transport.request("GET", url, {"accept": JSON}, None)
        doc = self.read_json(response, url, "incoming payment")
        if not isinstance(doc, Mapping):
            raise InvalidResponseError(f"the incoming payment at {url} is not a JSON object")
        received = doc.get("receivedAmount")
        return None if received is None else Amount.parse(received, "receivedAmount")

    async def complete_incoming_payment(self, url: str, grant: Grant) -> IncomingPayment:
        """``POST <incoming payment id>/complete``: it takes no more money."""
        require_https(url, "incoming payment")
        target = url.rstrip("/") + "/complete"
        response = await self.signed(grant.key, "POST", target, token=grant.access_token)
        return IncomingPayment.parse(self.read_json(response, target, "incoming payment"))

    # -- plumbing -------------------------------------------------------------------------

    async def signed(
        self,
        key: ClientKey,
        method: str,
        url: str,
        *,
        body: Mapping[str, Any] | None = None,
        token: Secret | None = None,
        once: bool = False,
    ) -> HttpResponse:
        """A signed request (``once``: see :meth:`Transport.request`)."""
        require_https(url)
        raw = compact_json(body) if body is not None else None
        headers = sign_request(
            key,
            method,
            url,
            body=raw,
            access_token=token.reveal() if token is not None else None,
            created=int(self._clock().timestamp()),
            extra_headers=_BASE_HEADERS,
        )
        return await self._transport.request(method, url, headers, raw, once=once)

    def expect_ok(self, response: HttpResponse, url: str, what: str) -> None:
        if 200 <= response.status < 300:
            return
        raise self.refusal(response, url, what)

    def read_json(self, response: HttpResponse, url: str, what: str) -> object:
        self.expect_ok(response, url, what)
        if response.content_type not in _JSON_TYPES:
            shown = response.content_type or "no content type"
            raise NotJsonError(
                f"the {what} at {url} is not JSON ({shown})", url=url, status=response.status
            )
        try:
            return json.loads(response.body)
        except (ValueError, UnicodeDecodeError) as e:
            raise NotJsonError(
                f"the {what} at {url} is not valid JSON", url=url, status=response.status
            ) from e

    @staticmethod
    def refusal(response: HttpResponse, url: str, what: str) -> Exception:
        status = response.status
        if status == 404:
            return NotFoundError(f"no {what} at {url} (HTTP 404)", url=url, status=status)
        code, description = gnap_error(response.body)
        shown = description if code.isdigit() or not code else code  # Rafiki RS: code "403"
        detail = f" ({shown})" if shown else ""
        message = f"the {what} at {url} was refused: HTTP {status}{detail}"
        if code == "invalid_client" or (status == 401 and "signature" in description.lower()):
            return SignatureError(message, url=url, status=status, code=code)
        return ServerRefusedError(message, url=url, status=status, code=code)


def gnap_error(body: bytes) -> tuple[str, str]:
    """``(code, description)`` from a GNAP/Rafiki error body; words from the server are kept
    short and printable (they end up in messages)."""
    doc = _error_doc(body)
    if doc is None:
        return "", ""
    error = doc.get("error")
    if isinstance(error, Mapping):
        code, description = error.get("code"), error.get("description")
    else:
        code, description = error, doc.get("message")
    return _short(code), _short(description)


def error_details(body: bytes) -> Mapping[str, Any]:
    """``error.details`` of a Rafiki error body (``{}`` when there is none)."""
    doc = _error_doc(body)
    error = doc.get("error") if doc is not None else None
    details = error.get("details") if isinstance(error, Mapping) else None
    return details if isinstance(details, Mapping) else {}


def _error_doc(body: bytes) -> Mapping[str, Any] | None:
    try:
        doc = json.loads(body)
    except (ValueError, UnicodeDecodeError):
        return None
    return doc if isinstance(doc, Mapping) else None


def _short(value: object) -> str:
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value if c.isprintable())[:200]
