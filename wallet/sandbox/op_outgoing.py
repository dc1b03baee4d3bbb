"""The sandbox resource server's paying side, as Rafiki's (RAF packages/backend/src/open_payments/
quote/{routes,errors}.ts, payment/outgoing/{routes,errors,service,limits}.ts; OPEN-PAYMENTS-NOTES
§5): quotes, outgoing payments (from a quote, or straight from ``incomingPayment`` +
``debitAmount``), their GET and list, and ``GET /outgoing-payment-grant``.

Errors are Rafiki's: ``{"error": {"code": "<status>", "description": <its words>, "details"?}}``
— ``403 Inactive Token`` (expired, rotated away, revoked, unknown), ``403 Insufficient Grant``
(no such access), ``403 unauthorized`` (past the grant's limit in this interval, its
InsufficientGrant), ``400 invalid receiver``, ``400 non-positive receive amount`` with
``details.minSendAmount`` (quotes) and ``400 negative receive amount`` (direct payments),
``400 invalid quote``, ``400 invalid amount``.

Receivers are this server's own incoming payments; the money itself moves over STREAM
(:class:`~wallet.sandbox.op_payer.PayerBooks`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable
from typing import Any, NoReturn

from aiohttp import web

from wallet.openpayments.intervals import RepeatingInterval
from wallet.sandbox.op_http import HttpError, SiteUrls, fail, gnap_token, json_response, read_body
from wallet.sandbox.op_http import verify_signature as _verify
from wallet.sandbox.op_ledger import (
    OpenPaymentsLedger,
    SandboxGrant,
    SandboxIncomingPayment,
    SandboxWallet,
)
from wallet.sandbox.op_payer import PayerBooks, SandboxOutgoingPayment, SandboxQuote

__all__ = ["OutgoingHandlers", "authorize"]


def _refuse(status: int, description: str, **details: Any) -> NoReturn:
    fail(status, str(status), description, details=details or None)


def authorize(
    ledger: OpenPaymentsLedger,
    urls: SiteUrls,
    request: web.Request,
    *,
    raw: bytes = b"",
    kind: str,
    action: str,
    wallet_id: str | None = None,
) -> SandboxGrant:
    """The grant whose live token came with ``request``, signed by its client, allowing
    ``action`` on ``kind`` (on ``wallet_id`` when the access item names one)."""
    token = gnap_token(request)
    if token is None:
        raise HttpError(
            401,
            "401",
            "Missing or invalid authorization header value",
            {"WWW-Authenticate": f"GNAP as_uri={urls.auth_server}"},
        )
    grant = ledger.grant_for_token(token)
    if grant is None:
        _refuse(403, "Inactive Token")
    _verify(request, raw, ledger.keys_for(grant), now=ledger.clock(), code="401")
    item = grant.access_item(kind, action)
    identifier = item.get("identifier") if item is not None else None
    if item is None or (wallet_id is not None and identifier not in (None, wallet_id)):
        _refuse(403, "Insufficient Grant")
    return grant


class OutgoingHandlers:
    def __init__(
        self,
        ledger: OpenPaymentsLedger,
        payer: PayerBooks,
        urls: Callable[[], SiteUrls],
        *,
        quote_required: bool = False,
    ) -> None:
        self.ledger = ledger
        self.payer = payer
        self._urls = urls
        self.quote_required = quote_required
        """Refuse ``{incomingPayment, debitAmount}`` as Rafiki's OpenAPI validator did before
        it was allowed."""

    def _rs(self) -> str:
        return self._urls().resource_server

    def _wallet(self, wallet_id: object) -> SandboxWallet:
        wallet = self.ledger.wallets.get(wallet_id) if isinstance(wallet_id, str) else None
        if wallet is None:
            _refuse(404, "unknown wallet address")
        return wallet

    def _receiver(self, url: object) -> SandboxIncomingPayment:
        payment = self.ledger.payments.get(url) if isinstance(url, str) else None
        if payment is None or not payment.is_open(self.ledger.clock()):
            _refuse(400, "invalid receiver")
        return payment

    @staticmethod
    def _value(doc: object, wallet: SandboxWallet) -> int:
        """A positive amount in ``wallet``'s asset."""
        if not isinstance(doc, dict) or not str(doc.get("value", "")).isdigit():
            _refuse(400, "invalid amount")
        same_asset = (doc.get("assetCode"), doc.get("assetScale")) == (
            wallet.asset_code,
            wallet.asset_scale,
        )
        value = int(doc["value"])
        if not same_asset or value <= 0:
            _refuse(400, "invalid amount")
        return value

    def _min_send(self, wallet: SandboxWallet) -> dict[str, Any]:
        return {
            "value": str(self.payer.min_debit()),
            "assetCode": wallet.asset_code,
            "assetScale": wallet.asset_scale,
        }

    # -- quotes ---------------------------------------------------------------------------

    async def create_quote(self, request: web.Request) -> web.Response:
        raw, doc = await read_body(request)
        authorize(self.ledger, self._urls(), request, raw=raw, kind="quote", action="create")
        wallet = self._wallet(doc.get("walletAddress"))
        receiver = self._receiver(doc.get("receiver"))
        if "debitAmount" in doc:
            debit = self._value(doc["debitAmount"], wallet)
        elif "receiveAmount" in doc:
            debit = self._value(doc["receiveAmount"], receiver.wallet)
        elif receiver.incoming_amount is not None:
            debit = receiver.incoming_amount - receiver.received
        else:
            _refuse(400, "invalid amount")
        if self.payer.too_small(debit):
            _refuse(400, "non-positive receive amount", minSendAmount=self._min_send(wallet))
        quote = self.payer.quote(wallet, receiver, debit, f"{self._rs()}/quotes/{uuid.uuid4()}")
        return json_response(quote.to_json(), 201)

    async def get_quote(self, request: web.Request) -> web.Response:
        quote = self.payer.quotes.get(f"{self._rs()}/quotes/{request.match_info['id']}")
        authorize(self.ledger, self._urls(), request, kind="quote", action="read")
        if quote is None:
            _refuse(404, "Quote does not exist")
        return json_response(quote.to_json())

    # -- outgoing payments ----------------------------------------------------------------

    async def create_outgoing_payment(self, request: web.Request) -> web.Response:
        raw, doc = await read_body(request)
        wallet = self._wallet(doc.get("walletAddress"))
        grant = authorize(
            self.ledger,
            self._urls(),
            request,
            raw=raw,
            kind="outgoing-payment",
            action="create",
            wallet_id=wallet.id,
        )
        quote = self._quote_for(doc, wallet)
        window = self._check_limits(grant, quote)
        metadata = doc.get("metadata")
        payment = self.payer.create_outgoing(
            payment_id=f"{self._rs()}/outgoing-payments/{uuid.uuid4()}",
            quote=quote,
            grant_id=grant.id,
            client=grant.client_wallet or grant.kid,
            metadata=metadata if isinstance(metadata, dict) else None,
        )
        return json_response(payment.to_json(self.payer.spent(grant.id, window)), 201)

    def _quote_for(self, doc: dict[str, Any], wallet: SandboxWallet) -> SandboxQuote:
        if "quoteId" in doc:
            quote_id = doc["quoteId"]
            quote = self.payer.quotes.get(quote_id) if isinstance(quote_id, str) else None
            if quote is None:
                _refuse(404, "unknown quote")
            expired = self.ledger.clock() >= quote.expires_at
            if quote.wallet.id != wallet.id or quote.used or expired:
                _refuse(400, "invalid quote")
            return quote
        if self.quote_required:
            _refuse(400, "must have required property 'quoteId'")
        if "incomingPayment" in doc and "debitAmount" in doc:
            receiver = self._receiver(doc["incomingPayment"])
            debit = self._value(doc["debitAmount"], wallet)
            if self.payer.too_small(debit):
                _refuse(400, "negative receive amount")
            return self.payer.quote(wallet, receiver, debit, f"{self._rs()}/quotes/{uuid.uuid4()}")
        _refuse(400, "invalid request body: quoteId, or incomingPayment and debitAmount")

    def _check_limits(
        self, grant: SandboxGrant, quote: SandboxQuote
    ) -> tuple[dt.datetime, dt.datetime] | None:
        """The grant's current interval (``None``: no interval); refuses what goes past it."""
        item = grant.access_item("outgoing-payment", "create") or {}
        limits = item.get("limits") or {}
        window = None
        if "interval" in limits:
            window = RepeatingInterval.parse(str(limits["interval"])).window(self.ledger.clock())
            if window is None:
                _refuse(403, "unauthorized")
        receiver = limits.get("receiver")
        if receiver is not None and receiver != quote.receiver.id:
            _refuse(403, "unauthorized")
        spent_debit, spent_receive = self.payer.spent(grant.id, window)
        debit_limit, receive_limit = limits.get("debitAmount"), limits.get("receiveAmount")
        if debit_limit is not None and spent_debit + quote.debit > int(debit_limit["value"]):
            _refuse(403, "unauthorized")
        if receive_limit is not None and spent_receive + quote.receive > int(
            receive_limit["value"]
        ):
            _refuse(403, "unauthorized")
        return window

    def _readable(
        self, request: web.Request, payment: SandboxOutgoingPayment | None, action: str
    ) -> SandboxOutgoingPayment:
        wallet_id = payment.wallet.id if payment is not None else None
        grant = authorize(
            self.ledger,
            self._urls(),
            request,
            kind="outgoing-payment",
            action=action,
            wallet_id=wallet_id,
        )
        item = grant.access_item("outgoing-payment", action) or {}
        own_only = action in item.get("actions", ())
        if payment is None or (own_only and payment.client != (grant.client_wallet or grant.kid)):
            _refuse(404, "Outgoing payment does not exist")
        return payment

    async def get_outgoing_payment(self, request: web.Request) -> web.Response:
        url = f"{self._rs()}/outgoing-payments/{request.match_info['id']}"
        payment = self._readable(request, self.payer.outgoing.get(url), "read")
        return json_response(payment.to_json())

    async def list_outgoing_payments(self, request: web.Request) -> web.Response:
        wallet = self._wallet(request.query.get("wallet-address"))
        grant = authorize(
            self.ledger,
            self._urls(),
            request,
            kind="outgoing-payment",
            action="list",
            wallet_id=wallet.id,
        )
        item = grant.access_item("outgoing-payment", "list") or {}
        own_only = "list" in item.get("actions", ())
        client = grant.client_wallet or grant.kid
        mine = [
            p
            for p in self.payer.outgoing.values()
            if p.wallet.id == wallet.id and (not own_only or p.client == client)
        ]
        first = request.query.get("first", "10")
        if not first.isdigit() or not 1 <= int(first) <= 100 or "last" in request.query:
            _refuse(400, "invalid pagination parameters")
        start = 0
        cursor = request.query.get("cursor")
        if cursor is not None:
            ids = [p.id.rsplit("/", 1)[-1] for p in mine]
            if cursor not in ids:
                _refuse(400, "invalid cursor")
            start = ids.index(cursor) + 1
        page = mine[start : start + int(first)]
        pagination: dict[str, Any] = {
            "hasPreviousPage": start > 0,
            "hasNextPage": start + len(page) < len(mine),
        }
        if page:
            pagination["startCursor"] = page[0].id.rsplit("/", 1)[-1]
            pagination["endCursor"] = page[-1].id.rsplit("/", 1)[-1]
        return json_response({"pagination": pagination, "result": [p.to_json() for p in page]})

    async def grant_spent_amounts(self, request: web.Request) -> web.Response:
        grant = authorize(
            self.ledger, self._urls(), request, kind="outgoing-payment", action="create"
        )
        item = grant.access_item("outgoing-payment", "create") or {}
        limits = item.get("limits") or {}
        if not any(p.grant_id == grant.id for p in self.payer.outgoing.values()):
            return json_response({"spentDebitAmount": None, "spentReceiveAmount": None})
        if "interval" in limits:
            window = RepeatingInterval.parse(str(limits["interval"])).window(self.ledger.clock())
            debit, receive = self.payer.spent(grant.id, window) if window else (0, 0)
        else:
            debit, receive = self.payer.spent(grant.id, None)
        wallet = self.ledger.wallets[grant.wallet_id]
        return json_response(
            {
                "spentDebitAmount": self._amount(wallet, debit),
                "spentReceiveAmount": self._amount(wallet, receive),
            }
        )

    @staticmethod
    def _amount(wallet: SandboxWallet, value: int) -> dict[str, Any]:
        return {
            "value": str(value),
            "assetCode": wallet.asset_code,
            "assetScale": wallet.asset_scale,
        }
