"""The sandbox's Open Payments endpoints, laid out as a Rafiki tenant on one https origin.

* wallet addresses: ``GET <origin>/<name>`` (JSON, or SPSP with ``Accept: application/spsp4+json``)
  and ``GET <origin>/<name>/jwks.json`` (the client keys registered at that wallet);
* auth server ``<origin>/auth/<tenant>`` (:mod:`~wallet.sandbox.op_auth`): grant requests
  (directed identity, wallet-address clients, interactive outgoing-payment grants), continue,
  cancel, token rotation and revocation; the consent page at ``<origin>/auth/interact/…``
  (:mod:`~wallet.sandbox.op_consent`) and the page where a wallet's owner adds a client key,
  ``<origin>/account/<name>/keys`` (:mod:`~wallet.sandbox.op_keys`);
* resource server ``<origin>/op/<tenant>``: ``POST /incoming-payments``,
  ``GET /incoming-payments/<id>`` (full when signed with a token, public when not),
  ``POST /incoming-payments/<id>/complete``; quotes, outgoing payments and
  ``/outgoing-payment-grant`` (:mod:`~wallet.sandbox.op_outgoing`), which really pay over STREAM
  from a funded wallet's own sandbox account (:mod:`~wallet.sandbox.op_payer`).

As Rafiki does, the auth and resource server URLs carry the tenant and differ from the wallet
address's own URL, so a client that builds them from the URL fails here as it would there.
Every signed request is verified (:func:`wallet.openpayments.signing.verify_request`: RFC 9421
signature, ``Content-Digest``, covered components, freshness of ``created``); a grant's token
works only with a signature by that grant's client. Errors are ``{"error": {"code",
"description"}}`` (the OpenAPI ``error-response``). State: the
:class:`~wallet.sandbox.op_ledger.OpenPaymentsLedger` and
:class:`~wallet.sandbox.op_payer.PayerBooks`.

Starting it for the app (https only, so with the sandbox's own certificate)::

    server_tls, ca_file = sandbox_certificate(state_dir)          # wallet/sandbox/tls.py
    site = await serve_open_payments(network, ssl_context=server_tls)
    site.add_wallet("blog", "The Slow Web")                       # https://127.0.0.1:<port>/blog
    site.add_wallet("me", "My wallet", balance=10**12)            # a wallet that can pay
    site.register_client_key("me", key.public_jwk())              # the user adds Trickle's key
    client = OpenPaymentsClient(HttpTransport(extra_ca_file=ca_file))
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aiohttp import web

from wallet.net.link import Link
from wallet.net.spsp import SPSP_CONTENT_TYPE
from wallet.openpayments.errors import InvalidResponseError
from wallet.openpayments.models import parse_timestamp
from wallet.sandbox.network import SandboxNetwork
from wallet.sandbox.op_auth import AuthHandlers
from wallet.sandbox.op_consent import ConsentHandlers
from wallet.sandbox.op_http import (
    JSON,
    MAX_BODY,
    SiteUrls,
    errors_middleware,
    fail,
    json_response,
    read_body,
)
from wallet.sandbox.op_keys import KeyPages
from wallet.sandbox.op_ledger import (
    ACCESS_TOKEN_LIFETIME,
    GRANT_WAIT_SECONDS,
    OpenPaymentsLedger,
    ReceiverBackend,
    SandboxGrant,
    SandboxIncomingPayment,
    SandboxWallet,
    StreamServerBackend,
    base64url,
)
from wallet.sandbox.op_outgoing import OutgoingHandlers, authorize
from wallet.sandbox.op_payer import PayerBooks

__all__ = [
    "BackendFactory",
    "OpenPaymentsSandbox",
    "serve_open_payments",
    "start_open_payments_sandbox",
]


@dataclass
class OpenPaymentsSandbox:
    """A running sandbox Open Payments server; ``close()`` stops it."""

    ledger: OpenPaymentsLedger
    origin: str
    tenant: str
    _runner: web.AppRunner
    payer: PayerBooks | None = None
    """The paying side (funded wallets, quotes, outgoing payments); ``None`` when the server
    was started without a network to pay over."""

    @property
    def auth_server(self) -> str:
        return f"{self.origin}/auth/{self.tenant}"

    @property
    def resource_server(self) -> str:
        return f"{self.origin}/op/{self.tenant}"

    def wallet_url(self, name: str) -> str:
        return f"{self.origin}/{name}"

    def add_wallet(
        self,
        name: str,
        public_name: str,
        *,
        asset_code: str = "USD",
        asset_scale: int = 9,
        balance: int | None = None,
    ) -> SandboxWallet:
        """A wallet address ``<origin>/<name>``; with a ``balance`` of play money it can also
        pay (an account ``<network>.wallet-<name>`` on the sandbox network)."""
        wallet = SandboxWallet(name, self.wallet_url(name), public_name, asset_code, asset_scale)
        self.ledger.add_wallet(wallet)
        if balance is not None:
            if self.payer is None:
                raise ValueError("this sandbox server has no network to pay over")
            self.payer.fund(wallet, balance)
        return wallet

    def keys_page(self, name: str) -> str:
        """Where the wallet's owner adds a client's key (an HTML page)."""
        return f"{self.origin}/account/{name}/keys"

    def register_client_key(self, name: str, jwk: Mapping[str, Any]) -> None:
        """What the user does at their wallet: add a client's public key (Trickle's), so that
        requests signed with it may act as this wallet."""
        self.ledger.register_client_key(self.wallet_url(name), jwk)

    def balance(self, name: str) -> int:
        """What is left in a funded wallet."""
        return self.payer.balances.get(self.wallet_url(name), 0) if self.payer else 0

    async def close(self) -> None:
        if self.payer is not None:
            await self.payer.aclose()
        await self._runner.cleanup()


class _Handlers:
    """Wallet addresses and incoming payments; ``site`` is set once the origin is known."""

    def __init__(self, ledger: OpenPaymentsLedger, tenant: str) -> None:
        self.ledger = ledger
        self.tenant = tenant
        self.site: OpenPaymentsSandbox | None = None

    def urls(self) -> SiteUrls:
        assert self.site is not None
        return self.site

    @property
    def _site(self) -> OpenPaymentsSandbox:
        assert self.site is not None
        return self.site

    def _wallet(self, request: web.Request) -> SandboxWallet:
        wallet = self.ledger.wallets.get(self._site.wallet_url(request.match_info["name"]))
        if wallet is None:
            fail(404, "not_found", "no such wallet address")
        return wallet

    def _authorized(self, request: web.Request, raw: bytes, action: str) -> SandboxGrant:
        return authorize(
            self.ledger, self._site, request, raw=raw, kind="incoming-payment", action=action
        )

    def _payment(self, request: web.Request) -> SandboxIncomingPayment:
        url = f"{self._site.resource_server}/incoming-payments/{request.match_info['id']}"
        payment = self.ledger.payments.get(url)
        if payment is None:
            fail(404, "not_found", "Incoming Payment Not Found")
        return payment

    def _own(self, grant: SandboxGrant, payment: SandboxIncomingPayment, any_action: str) -> None:
        owner = self.ledger.grants.get(payment.grant_id)
        same_client = owner is not None and (owner.client_wallet or owner.kid) == (
            grant.client_wallet or grant.kid
        )
        if not same_client and any_action not in grant.actions:
            fail(404, "not_found", "Incoming Payment Not Found")
        if grant.wallet_id and grant.wallet_id != payment.wallet.id:
            fail(403, "insufficient_grant", "Insufficient Grant")

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
            fail(406, "invalid_request", "Must accept application/json")
        return json_response(
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
        wallet = self._wallet(request)
        return json_response({"keys": list(self.ledger.client_jwks.get(wallet.id, {}).values())})

    # -- incoming payments ----------------------------------------------------------------

    async def create_incoming_payment(self, request: web.Request) -> web.Response:
        raw, doc = await read_body(request)
        grant = self._authorized(request, raw, "create")
        wallet = self.ledger.wallets.get(doc.get("walletAddress", ""))
        if wallet is None:
            fail(400, "invalid_request", "unknown walletAddress")
        if grant.wallet_id and grant.wallet_id != wallet.id:
            fail(403, "insufficient_grant", "Insufficient Grant")
        expires_at = None
        if "expiresAt" in doc:
            try:
                expires_at = parse_timestamp(doc["expiresAt"], "expiresAt")
            except InvalidResponseError:
                fail(400, "invalid_request", "expiresAt is not a date-time")
            if expires_at <= self.ledger.clock():
                fail(400, "invalid_request", "expiry date must be in the future")
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
        return json_response(payment.to_json(self.ledger.clock()), 201)

    @staticmethod
    def _incoming_amount(doc: object, wallet: SandboxWallet) -> int | None:
        if doc is None:
            return None
        if not isinstance(doc, dict) or not str(doc.get("value", "")).isdigit():
            fail(400, "invalid_request", "incomingAmount is not an amount")
        if doc.get("assetCode") != wallet.asset_code or doc.get("assetScale") != wallet.asset_scale:
            fail(400, "invalid_request", "invalid asset")
        value = int(doc["value"])
        if value <= 0:
            fail(400, "invalid_request", "invalid amount")
        return value

    async def get_incoming_payment(self, request: web.Request) -> web.Response:
        payment = self._payment(request)
        if "Authorization" not in request.headers and "Signature" not in request.headers:
            return json_response(payment.public_json(self._site.auth_server))
        grant = self._authorized(request, b"", "read")
        self._own(grant, payment, "read-all")
        return json_response(payment.to_json(self.ledger.clock()))

    async def complete_incoming_payment(self, request: web.Request) -> web.Response:
        payment = self._payment(request)
        raw, _ = await read_body(request)
        grant = self._authorized(request, raw, "complete")
        self._own(grant, payment, "complete")
        now = self.ledger.clock()
        if not payment.is_open(now):
            fail(400, "invalid_state", "incoming payment is completed or expired")
        self.ledger.complete(payment)
        return json_response(payment.to_json(now, with_methods=False))


async def start_open_payments_sandbox(
    ledger: OpenPaymentsLedger,
    *,
    ssl_context: ssl.SSLContext,
    host: str = "127.0.0.1",
    port: int = 0,
    tenant: str = "cf5fd7d3-1eb1-4041-8e43-ba45747e9e5d",
    middlewares: Iterable[Any] = (),
    payer: Callable[[], PayerBooks] | None = None,
    legacy: bool = False,
) -> OpenPaymentsSandbox:
    """Serve the sandbox's Open Payments endpoints over TLS on ``host:port``.

    ``middlewares`` run outside the server's own (tests put an OpenAPI validator there);
    ``payer`` makes the paying side (quotes and outgoing payments are served only with it).
    ``legacy``: behave as a wallet from before Rafiki's outgoing payments straight from an
    incoming payment and ``GET /outgoing-payment-grant`` (official client 6.9 / Rafiki 3375).
    """
    handlers = _Handlers(ledger, tenant)
    auth = AuthHandlers(ledger, handlers.urls, tenant)
    consent = ConsentHandlers(ledger, handlers.urls)
    app = web.Application(middlewares=[*middlewares, errors_middleware], client_max_size=MAX_BODY)
    app.router.add_post("/auth/continue/{id}", auth.continue_grant)
    app.router.add_delete("/auth/continue/{id}", auth.cancel_grant)
    app.router.add_post("/auth/token/{id}", auth.rotate_token)
    app.router.add_delete("/auth/token/{id}", auth.revoke_token)
    app.router.add_get("/auth/interact/{id}/{nonce}", consent.start)
    app.router.add_post("/auth/interact/{id}/{nonce}/finish", consent.finish)
    keys = KeyPages(ledger, lambda name: handlers.urls().wallet_url(name))
    app.router.add_get("/account/{name}/keys", keys.show)
    app.router.add_post("/account/{name}/keys", keys.add)
    app.router.add_post("/auth/{tenant}", auth.grant_request)
    rs = f"/op/{tenant}"
    app.router.add_post(rs + "/incoming-payments", handlers.create_incoming_payment)
    app.router.add_get(rs + "/incoming-payments/{id}", handlers.get_incoming_payment)
    app.router.add_post(rs + "/incoming-payments/{id}/complete", handlers.complete_incoming_payment)
    books = payer() if payer is not None else None
    if books is not None:
        outgoing = OutgoingHandlers(ledger, books, handlers.urls, quote_required=legacy)
        app.router.add_post(rs + "/quotes", outgoing.create_quote)
        app.router.add_get(rs + "/quotes/{id}", outgoing.get_quote)
        app.router.add_post(rs + "/outgoing-payments", outgoing.create_outgoing_payment)
        app.router.add_get(rs + "/outgoing-payments", outgoing.list_outgoing_payments)
        app.router.add_get(rs + "/outgoing-payments/{id}", outgoing.get_outgoing_payment)
        if not legacy:
            app.router.add_get(rs + "/outgoing-payment-grant", outgoing.grant_spent_amounts)
    app.router.add_get("/{name}", handlers.wallet_address)
    app.router.add_get("/{name}/jwks.json", handlers.jwks)
    runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
    await runner.setup()
    await web.TCPSite(runner, host, port, ssl_context=ssl_context).start()
    bound = runner.addresses[0][1]
    site = OpenPaymentsSandbox(ledger, f"https://{host}:{bound}", tenant, runner, books)
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
    grant_wait_seconds: int = GRANT_WAIT_SECONDS,
    access_token_lifetime: dt.timedelta = ACCESS_TOKEN_LIFETIME,
    min_send_amount: int = 1,
    legacy: bool = False,
) -> OpenPaymentsSandbox:
    """The sandbox's Open Payments server with its receiver on the sandbox network: an account
    ``<network>.<account>`` whose Prepares go through the ledger (which credits incoming
    payments) to ``backend`` (default: Trickle's own STREAM receiver). Funded wallets pay over
    the same network. ``grant_wait_seconds`` is the ``wait`` of interactive grants,
    ``access_token_lifetime`` the tokens' ``expires_in``, ``min_send_amount`` the smallest
    debit a quote accepts (below it: ``non-positive receive amount`` with ``minSendAmount``);
    ``legacy``: see :func:`start_open_payments_sandbox`."""
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
    ledger = OpenPaymentsLedger(
        receiver,
        access_token_lifetime=access_token_lifetime,
        grant_wait=grant_wait_seconds,
        **({"clock": clock} if clock else {}),
    )
    link.set_incoming_handler(ledger.handle_prepare)  # after the receiver's own router

    def payer() -> PayerBooks:
        return PayerBooks(network, ledger, clock=ledger.clock, min_send_amount=min_send_amount)

    return await start_open_payments_sandbox(
        ledger,
        ssl_context=ssl_context,
        host=host,
        middlewares=middlewares,
        payer=payer,
        legacy=legacy,
    )
