"""The sandbox's Open Payments endpoints, laid out as a Rafiki tenant on one https origin.

* wallet addresses: ``GET <origin>/<name>`` (JSON, or SPSP with ``Accept: application/spsp4+json``)
  and ``GET <origin>/<name>/jwks.json``;
* auth server ``<origin>/auth/<tenant>``: the grant request (non-interactive ``incoming-payment``
  grants for directed-identity clients, ``client: {jwk}``); ``DELETE <origin>/auth/continue/<id>``
  cancels a grant;
* resource server ``<origin>/op/<tenant>``: ``POST /incoming-payments``,
  ``GET /incoming-payments/<id>`` (full when signed with a token, public when not),
  ``POST /incoming-payments/<id>/complete``.

As Rafiki does, the auth and resource server URLs carry the tenant and differ from the wallet
address's own URL, so a client that builds them from the URL fails here as it would there.
Every signed request is verified (:func:`wallet.openpayments.signing.verify_request`: RFC 9421
signature, ``Content-Digest``, covered components, freshness of ``created``); a grant's token
works only with a signature by that grant's key. Errors are ``{"error": {"code", "description"}}``
(the OpenAPI ``error-response``). State: :class:`~wallet.sandbox.op_ledger.OpenPaymentsLedger`.

Starting it for the app (https only, so with the sandbox's own certificate)::

    server_tls, ca_file = sandbox_certificate(state_dir)          # wallet/sandbox/tls.py
    site = await serve_open_payments(network, ssl_context=server_tls)
    site.add_wallet("blog", "The Slow Web")                       # https://127.0.0.1:<port>/blog
    client = OpenPaymentsClient(HttpTransport(extra_ca_file=ca_file))
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, NoReturn

from aiohttp import web
from aiohttp.typedefs import Handler

from wallet.net.link import Link
from wallet.net.spsp import SPSP_CONTENT_TYPE
from wallet.openpayments.errors import InvalidResponseError
from wallet.openpayments.models import parse_timestamp
from wallet.openpayments.signing import (
    InvalidJwkError,
    RequestSignatureError,
    SignedRequest,
    public_key_from_jwk,
    verify_request,
)
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_ledger import (
    ACCESS_TOKEN_LIFETIME,
    OpenPaymentsLedger,
    ReceiverBackend,
    SandboxGrant,
    SandboxIncomingPayment,
    SandboxWallet,
    StreamServerBackend,
    base64url,
)

__all__ = [
    "BackendFactory",
    "OpenPaymentsSandbox",
    "serve_open_payments",
    "start_open_payments_sandbox",
]

JSON = "application/json"
MAX_BODY = 64_000


class _HttpError(Exception):
    def __init__(
        self, status: int, code: str, description: str, headers: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(description)
        self.status, self.code, self.description = status, code, description
        self.headers = dict(headers or {})


def _fail(status: int, code: str, description: str, **headers: str) -> NoReturn:
    raise _HttpError(status, code, description, headers)


def _json_response(doc: object, status: int = 200) -> web.Response:
    return web.Response(status=status, body=json.dumps(doc).encode(), content_type=JSON)


@web.middleware
async def _errors(request: web.Request, handler: Handler) -> web.StreamResponse:
    try:
        return await handler(request)
    except _HttpError as e:
        doc = {"error": {"code": e.code, "description": e.description}}
        response = _json_response(doc, e.status)
        response.headers.update(e.headers)
        return response


@dataclass
class OpenPaymentsSandbox:
    """A running sandbox Open Payments server; ``close()`` stops it."""

    ledger: OpenPaymentsLedger
    origin: str
    tenant: str
    _runner: web.AppRunner

    @property
    def auth_server(self) -> str:
        return f"{self.origin}/auth/{self.tenant}"

    @property
    def resource_server(self) -> str:
        return f"{self.origin}/op/{self.tenant}"

    def wallet_url(self, name: str) -> str:
        return f"{self.origin}/{name}"

    def add_wallet(
        self, name: str, public_name: str, *, asset_code: str = "USD", asset_scale: int = 9
    ) -> SandboxWallet:
        wallet = SandboxWallet(name, self.wallet_url(name), public_name, asset_code, asset_scale)
        self.ledger.add_wallet(wallet)
        return wallet

    async def close(self) -> None:
        await self._runner.cleanup()


class _Handlers:
    """The route handlers; ``site`` is set once the origin is known."""

    def __init__(self, ledger: OpenPaymentsLedger, tenant: str) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.site: OpenPaymentsSandbox | None = None

    @property
    def _site(self) -> OpenPaymentsSandbox:
        assert self.site is not None
        return self.site

    # -- helpers --------------------------------------------------------------------------

    async def _body(self, request: web.Request) -> tuple[bytes, dict[str, Any]]:
        if request.content_length is not None and request.content_length > MAX_BODY:
            _fail(413, "invalid_request", "body too large")
        raw = await request.read()
        if not raw:
            return raw, {}
        try:
            doc = json.loads(raw)
        except (ValueError, UnicodeDecodeError):
            _fail(400, "invalid_request", "body is not JSON")
        if not isinstance(doc, dict):
            _fail(400, "invalid_request", "body is not a JSON object")
        return raw, doc

    def _verify(self, request: web.Request, raw: bytes, keys: Mapping[str, Any], code: str) -> None:
        signed = SignedRequest(
            request.method,
            str(request.url),
            {k.lower(): v for k, v in request.headers.items()},
            raw or None,
        )
        try:
            verify_request(signed, keys, now=self.ledger.clock())
        except RequestSignatureError as e:
            _fail(401, code, f"Signature validation error: {e}")

    def _wallet(self, request: web.Request) -> SandboxWallet:
        wallet = self.ledger.wallets.get(self._site.wallet_url(request.match_info["name"]))
        if wallet is None:
            _fail(404, "not_found", "no such wallet address")
        return wallet

    def _authorized(self, request: web.Request, raw: bytes, action: str) -> SandboxGrant:
        header = request.headers.get("Authorization", "")
        if not header.startswith("GNAP "):
            _fail(
                401,
                "unauthorized",
                "Missing Authorization",
                **{"WWW-Authenticate": f"GNAP as_uri={self._site.auth_server}"},
            )
        grant = self.ledger.grant_for_token(header[5:].strip())
        if grant is None:
            _fail(401, "invalid_token", "Invalid Token")
        self._verify(request, raw, {grant.kid: grant.key}, "invalid_signature")
        if action not in grant.actions:
            _fail(403, "insufficient_grant", "Insufficient Grant")
        return grant

    def _payment(self, request: web.Request) -> SandboxIncomingPayment:
        url = f"{self._site.resource_server}/incoming-payments/{request.match_info['id']}"
        payment = self.ledger.payments.get(url)
        if payment is None:
            _fail(404, "not_found", "Incoming Payment Not Found")
        return payment

    def _own(self, grant: SandboxGrant, payment: SandboxIncomingPayment, any_action: str) -> None:
        owner = self.ledger.grants.get(payment.grant_id)
        same_client = owner is not None and owner.kid == grant.kid
        if not same_client and any_action not in grant.actions:
            _fail(404, "not_found", "Incoming Payment Not Found")
        if grant.wallet_id and grant.wallet_id != payment.wallet.id:
            _fail(403, "insufficient_grant", "Insufficient Grant")

    # -- wallet addresses -----------------------------------------------------------------

    async def wallet_address(self, request: web.Request) -> web.Response:
        wallet = self._wallet(request)
        accept = request.headers.get("Accept", "")
        if SPSP_CONTENT_TYPE in accept and JSON not in accept:
            address, secret = await self.ledger.backend.credentials(uuid.uuid4().hex)
            body = {
                "destination_account": address,
                "shared_secret": base64url(secret),
                "receipts_enabled": False,
            }
            return web.Response(body=json.dumps(body).encode(), content_type=SPSP_CONTENT_TYPE)
        if accept and JSON not in accept and "*/*" not in accept:
            _fail(406, "invalid_request", "Must accept application/json")
        return _json_response(
            {
                "id": wallet.id,
                "publicName": wallet.public_name,
                "assetCode": wallet.asset_code,
                "assetScale": wallet.asset_scale,
                "authServer": self._site.auth_server,
                "resourceServer": self._site.resource_server,
            }
        )

    async def jwks(self, request: web.Request) -> web.Response:
        self._wallet(request)
        return _json_response({"keys": []})

    # -- auth server ----------------------------------------------------------------------

    async def grant_request(self, request: web.Request) -> web.Response:
        if request.match_info["tenant"] != self.tenant:
            _fail(404, "not_found", "no such tenant")
        raw, doc = await self._body(request)
        client = doc.get("client")
        if not isinstance(client, dict) or "jwk" not in client:
            _fail(400, "invalid_client", "the sandbox knows only directed-identity clients ({jwk})")
        try:
            kid, key = public_key_from_jwk(client["jwk"])
        except InvalidJwkError as e:
            _fail(400, "invalid_client", str(e))
        self._verify(request, raw, {kid: key}, "invalid_client")
        if "interact" in doc:
            _fail(
                400, "invalid_client", "JWK client identifier cannot be used for interactive grants"
            )
        token = doc.get("access_token")
        access = token.get("access") if isinstance(token, dict) else None
        if not isinstance(access, list) or not access:
            _fail(400, "invalid_request", "access_token.access is required")
        wallet_id = ""
        for item in access:
            if not isinstance(item, dict) or item.get("type") != "incoming-payment":
                _fail(
                    400,
                    "invalid_client",
                    "JWK client identifier cannot be used for interactive grants",
                )
            identifier = item.get("identifier")
            if identifier is not None:
                if identifier not in self.ledger.wallets:
                    _fail(400, "invalid_request", "unknown identifier")
                wallet_id = identifier
        grant = self.ledger.issue_grant(kid=kid, key=key, wallet_id=wallet_id, access=access)
        origin = self._site.origin
        return _json_response(
            {
                "access_token": {
                    "value": grant.access_token.reveal(),
                    "manage": f"{origin}/auth/token/{grant.id}",
                    "expires_in": int(ACCESS_TOKEN_LIFETIME.total_seconds()),
                    "access": access,
                },
                "continue": {
                    "access_token": {"value": grant.continue_token.reveal()},
                    "uri": f"{origin}/auth/continue/{grant.id}",
                },
            }
        )

    async def cancel_grant(self, request: web.Request) -> web.Response:
        header = request.headers.get("Authorization", "")
        grant = (
            self.ledger.grant_for_continue(request.match_info["id"], header[5:].strip())
            if header.startswith("GNAP ")
            else None
        )
        if grant is None:
            _fail(404, "unknown_request", "no such grant")
        raw = await request.read()
        self._verify(request, raw, {grant.kid: grant.key}, "invalid_client")
        grant.revoked = True
        return web.Response(status=204)

    # -- resource server ------------------------------------------------------------------

    async def create_incoming_payment(self, request: web.Request) -> web.Response:
        raw, doc = await self._body(request)
        grant = self._authorized(request, raw, "create")
        wallet = self.ledger.wallets.get(doc.get("walletAddress", ""))
        if wallet is None:
            _fail(400, "invalid_request", "unknown walletAddress")
        if grant.wallet_id and grant.wallet_id != wallet.id:
            _fail(403, "insufficient_grant", "Insufficient Grant")
        expires_at = None
        if "expiresAt" in doc:
            try:
                expires_at = parse_timestamp(doc["expiresAt"], "expiresAt")
            except InvalidResponseError:
                _fail(400, "invalid_request", "expiresAt is not a date-time")
            if expires_at <= self.ledger.clock():
                _fail(400, "invalid_request", "expiry date must be in the future")
        amount = self._incoming_amount(doc.get("incomingAmount"), wallet)
        metadata = doc.get("metadata")
        payment_id = f"{self._site.resource_server}/incoming-payments/{uuid.uuid4()}"
        payment = await self.ledger.create_incoming_payment(
            payment_id=payment_id,
            wallet=wallet,
            grant=grant,
            expires_at=expires_at,
            incoming_amount=amount,
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        return _json_response(payment.to_json(self.ledger.clock()), 201)

    @staticmethod
    def _incoming_amount(doc: object, wallet: SandboxWallet) -> int | None:
        if doc is None:
            return None
        if not isinstance(doc, dict) or not str(doc.get("value", "")).isdigit():
            _fail(400, "invalid_request", "incomingAmount is not an amount")
        if doc.get("assetCode") != wallet.asset_code or doc.get("assetScale") != wallet.asset_scale:
            _fail(400, "invalid_request", "invalid asset")
        value = int(doc["value"])
        if value <= 0:
            _fail(400, "invalid_request", "invalid amount")
        return value

    async def get_incoming_payment(self, request: web.Request) -> web.Response:
        payment = self._payment(request)
        if "Authorization" not in request.headers and "Signature" not in request.headers:
            return _json_response(payment.public_json(self._site.auth_server))
        grant = self._authorized(request, b"", "read")
        self._own(grant, payment, "read-all")
        return _json_response(payment.to_json(self.ledger.clock()))

    async def complete_incoming_payment(self, request: web.Request) -> web.Response:
        payment = self._payment(request)
        raw, _ = await self._body(request)
        grant = self._authorized(request, raw, "complete")
        self._own(grant, payment, "complete")
        now = self.ledger.clock()
        if not payment.is_open(now):
            _fail(400, "invalid_state", "incoming payment is completed or expired")
        self.ledger.complete(payment)
        return _json_response(payment.to_json(now, with_methods=False))


async def start_open_payments_sandbox(
    ledger: OpenPaymentsLedger,
    *,
    ssl_context: ssl.SSLContext,
    host: str = "127.0.0.1",
    port: int = 0,
    tenant: str = "cf5fd7d3-1eb1-4041-8e43-ba45747e9e5d",
    middlewares: Iterable[Any] = (),
) -> OpenPaymentsSandbox:
    """Serve the sandbox's Open Payments endpoints over TLS on ``host:port``.

    ``middlewares`` run outside the server's own (tests put an OpenAPI validator there).
    """
    handlers = _Handlers(ledger, tenant)
    app = web.Application(middlewares=[*middlewares, _errors], client_max_size=MAX_BODY)
    app.router.add_post("/auth/{tenant}", handlers.grant_request)
    app.router.add_delete("/auth/continue/{id}", handlers.cancel_grant)
    rs = f"/op/{tenant}/incoming-payments"
    app.router.add_post(rs, handlers.create_incoming_payment)
    app.router.add_get(rs + "/{id}", handlers.get_incoming_payment)
    app.router.add_post(rs + "/{id}/complete", handlers.complete_incoming_payment)
    app.router.add_get("/{name}", handlers.wallet_address)
    app.router.add_get("/{name}/jwks.json", handlers.jwks)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    bound = runner.addresses[0][1]
    site = OpenPaymentsSandbox(ledger, f"https://{host}:{bound}", tenant, runner)
    handlers.site = site
    return site


BackendFactory = Callable[[Link, str], ReceiverBackend]
"""Makes the STREAM receiver for the sandbox account (its link, its ILP address)."""


async def serve_open_payments(
    network: SandboxNetwork,
    *,
    ssl_context: ssl.SSLContext,
    account: str = "op",
    backend: BackendFactory | None = None,
    clock: Callable[[], dt.datetime] | None = None,
    host: str = "127.0.0.1",
    middlewares: Iterable[Any] = (),
) -> OpenPaymentsSandbox:
    """The sandbox's Open Payments server with its receiver on the sandbox network: an account
    ``<network>.<account>`` whose Prepares go through the ledger (which credits incoming
    payments) to ``backend`` (default: Trickle's own STREAM receiver)."""
    link = network.account(account)
    address = f"{network.address}.{account}"
    if backend is None:
        receiver: ReceiverBackend = StreamServerBackend(
            link,
            base_address=address,
            asset_code=network.asset_code,
            asset_scale=network.asset_scale,
        )
    else:
        receiver = backend(link, address)
    ledger = OpenPaymentsLedger(receiver, **({"clock": clock} if clock else {}))
    link.set_incoming_handler(ledger.handle_prepare)  # after the receiver's own router
    return await start_open_payments_sandbox(
        ledger, ssl_context=ssl_context, host=host, middlewares=middlewares
    )
