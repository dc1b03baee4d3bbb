"""Paying from the user's own Open Payments wallet: an interactive outgoing-payment grant, its
token's rotation and revocation, quotes, outgoing payments and the grant's spent amounts.

The client is the user's wallet address (``client: {"walletAddress": <user wallet>}``, the form
the spec prefers; Rafiki refuses a ``{jwk}`` client for interactive grants), and every request
is signed with the user's Ed25519 key (:class:`~wallet.openpayments.signing.ClientKey`), which
the user registered at their wallet (its ``jwks.json``). The flow (OPEN-PAYMENTS-NOTES §4–§5,
FLOWS "Connecting a wallet"):

1. :meth:`UserWalletClient.request_grant` → :class:`PendingGrant`; open its ``redirect_url``
   for the user.
2. Either the finish redirect arrives (:meth:`InteractionFinish.from_redirect`,
   :meth:`PendingGrant.verify_finish`, then :meth:`continue_grant` with the ``interact_ref``),
   or, when no finish URI was given, :meth:`wait_for_grant` polls the continue URI every
   ``wait`` seconds (``too_fast`` honoured).
3. :meth:`pay` (straight from the incoming payment when the wallet allows it, else quote +
   outgoing payment), :meth:`wait_for_outgoing_payment` until it completed or failed.
4. :meth:`rotate_token` when the token expired (:class:`TokenInactiveError`),
   :meth:`revoke_token` / :meth:`OpenPaymentsClient.cancel_grant` on Disconnect.

Every error is a named :mod:`wallet.openpayments.errors` class; tokens travel as
:class:`~wallet.secrets.Secret` and never appear in messages.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import secrets
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import replace
from typing import Any, Final
from urllib.parse import urlencode

from wallet.openpayments.client import OpenPaymentsClient, error_details, gnap_error
from wallet.openpayments.errors import (
    AccessDeniedError,
    GrantExhaustedError,
    GrantRefusedError,
    GrantRejectedError,
    GrantRevokedError,
    GrantTimeoutError,
    InsufficientFundsError,
    InvalidReceiverError,
    InvalidResponseError,
    NotFoundError,
    NotJsonError,
    NotSentError,
    OpenPaymentsError,
    OutgoingPaymentFailedError,
    PaymentOutcomeUnknownError,
    QuoteTooSmallError,
    ServerRefusedError,
    SignatureError,
    TokenInactiveError,
    TooFastError,
    UnreachableError,
)
from wallet.openpayments.models import Amount, Grant, WalletAddress
from wallet.openpayments.outgoing_models import (
    GrantLimits,
    GrantSpentAmounts,
    OutgoingPayment,
    OutgoingPaymentPage,
    OutgoingPaymentState,
    PendingGrant,
    Quote,
)
from wallet.openpayments.signing import ClientKey
from wallet.openpayments.transport import HttpResponse, require_https

__all__ = ["DEFAULT_GRANT_WAIT", "Sleep", "UserWalletClient"]

Sleep = Callable[[float], Awaitable[None]]
DEFAULT_GRANT_WAIT: Final = 5  # seconds; Rafiki's WAIT_SECONDS when an answer has no `wait`
_POLL_INTERVAL: Final = 0.5


class UserWalletClient:
    """Open Payments calls against the user's wallet, signed with the user's ``key``.

    ``client`` gives the transport and the clock; ``sleep`` is what the polling loops wait
    with (tests drive it with their clock). Whether the wallet takes an outgoing payment
    straight from an incoming payment is learnt on first use and remembered per resource
    server (:meth:`direct_payments_supported`).
    """

    def __init__(
        self, client: OpenPaymentsClient, key: ClientKey, *, sleep: Sleep = asyncio.sleep
    ) -> None:
        self._client = client
        self._key = key
        self._sleep = sleep
        self._direct: dict[str, bool] = {}

    @property
    def key(self) -> ClientKey:
        return self._key

    # -- grants ---------------------------------------------------------------------------

    async def request_grant(
        self,
        wallet: WalletAddress,
        limits: GrantLimits,
        *,
        finish_uri: str | None = None,
        actions: tuple[str, ...] = ("create", "read"),
    ) -> PendingGrant:
        """Ask ``wallet``'s auth server for ``quote: create, read`` and ``outgoing-payment:
        <actions>`` on ``wallet`` under ``limits``, with the user's approval
        (``interact.start: ["redirect"]``; ``interact.finish`` to ``finish_uri`` if given,
        else the grant is polled, FLOWS "Connecting a wallet" step 13).

        Raises:
            GrantRefusedError: refused (``invalid_client``: the key is not registered at the
                wallet, ...), or granted without interaction (not what was asked).
        """
        interact: dict[str, Any] = {"start": ["redirect"]}
        nonce = None
        if finish_uri is not None:
            nonce = secrets.token_urlsafe(16)
            interact["finish"] = {"method": "redirect", "uri": finish_uri, "nonce": nonce}
        body = {
            "access_token": {
                "access": [
                    {"type": "quote", "actions": ["create", "read"]},
                    {
                        "type": "outgoing-payment",
                        "actions": list(actions),
                        "identifier": wallet.id,
                        "limits": limits.to_json(),
                    },
                ]
            },
            "client": {"walletAddress": wallet.id},
            "interact": interact,
        }
        url = wallet.auth_server
        requested_at = self._client.now()
        response = await self._client.signed(self._key, "POST", url, body=body)
        if not 200 <= response.status < 300:
            raise self._grant_refusal(response, url, "grant request")
        doc = self._client.read_json(response, url, "grant request")
        if isinstance(doc, Mapping) and "access_token" in doc:
            raise GrantRefusedError(
                "the wallet granted outgoing payments without asking the user", url=url
            )
        return PendingGrant.parse(
            doc,
            key=self._key,
            grant_endpoint=url,
            requested_at=requested_at,
            client_nonce=nonce,
        )

    async def continue_grant(
        self, pending: PendingGrant, *, interact_ref: str | None = None
    ) -> Grant | PendingGrant:
        """``POST <continue uri>`` with the continue token: with ``interact_ref`` after the
        finish redirect (check its hash first: :meth:`PendingGrant.verify_finish`), without to
        poll. Returns the :class:`Grant` once the user approved, else the still
        :class:`PendingGrant` (with its new ``wait``).

        Raises:
            TooFastError: sooner than ``wait`` seconds after the last request.
            GrantRejectedError: the user declined (``request_denied``).
            GrantRevokedError: the grant is unknown or was cancelled.
        """
        body = {"interact_ref": interact_ref} if interact_ref is not None else None
        url = pending.continue_uri
        now = self._client.now()
        response = await self._client.signed(
            pending.key, "POST", url, body=body, token=pending.continue_token
        )
        if not 200 <= response.status < 300:
            raise self._grant_refusal(response, url, "grant continuation")
        doc = self._client.read_json(response, url, "grant continuation")
        if isinstance(doc, Mapping) and "access_token" in doc:
            return Grant.parse(doc, pending.key, issued_at=now)
        return PendingGrant.parse(
            doc,
            key=pending.key,
            grant_endpoint=pending.grant_endpoint,
            requested_at=now,
            client_nonce=pending.client_nonce,
            previous=pending,
        )

    async def wait_for_grant(self, pending: PendingGrant, *, timeout: dt.timedelta) -> Grant:
        """Poll the continue URI every ``wait`` seconds until the user decides (for grants
        requested without ``finish_uri``). A ``too_fast`` answer makes it wait once more.

        Raises:
            GrantTimeoutError: no decision within ``timeout``.
            GrantRejectedError / GrantRevokedError: as :meth:`continue_grant`.
        """
        deadline = self._client.now() + timeout
        while True:
            delay = (pending.next_poll_at() - self._client.now()).total_seconds()
            if self._client.now() + dt.timedelta(seconds=max(delay, 0)) > deadline:
                raise GrantTimeoutError(
                    "the user did not answer at their wallet in time", url=pending.continue_uri
                )
            if delay > 0:
                await self._sleep(delay)
            try:
                answer = await self.continue_grant(pending)
            except TooFastError:
                pending = _restarted(pending, self._client.now())
                continue
            if isinstance(answer, Grant):
                return answer
            pending = answer

    async def rotate_token(self, grant: Grant) -> Grant:
        """``POST <manage URL>`` with the current token: a new token and manage URL; the old
        token stops working.

        Raises:
            GrantRevokedError: the token was revoked or its grant cancelled.
        """
        url = grant.manage_url
        now = self._client.now()
        response = await self._client.signed(grant.key, "POST", url, token=grant.access_token)
        if not 200 <= response.status < 300:
            raise self._grant_refusal(response, url, "token rotation")
        doc = self._client.read_json(response, url, "token rotation")
        return Grant.parse(
            doc, grant.key, issued_at=now, continuation=(grant.continue_uri, grant.continue_token)
        )

    async def revoke_token(self, grant: Grant) -> None:
        """``DELETE <manage URL>``: the token stops working (204)."""
        url = grant.manage_url
        response = await self._client.signed(grant.key, "DELETE", url, token=grant.access_token)
        if not 200 <= response.status < 300:
            raise self._grant_refusal(response, url, "token revocation")

    async def cancel_grant(self, grant: Grant | PendingGrant) -> None:
        """``DELETE <continue URI>`` with the continue token: the whole grant ends (204)."""
        url = grant.continue_uri
        response = await self._client.signed(grant.key, "DELETE", url, token=grant.continue_token)
        if not 200 <= response.status < 300:
            raise self._grant_refusal(response, url, "grant cancel")

    # -- quotes and outgoing payments -----------------------------------------------------

    async def create_quote(
        self,
        wallet: WalletAddress,
        grant: Grant,
        receiver: str,
        *,
        debit_amount: Amount | None = None,
        receive_amount: Amount | None = None,
    ) -> Quote:
        """``POST <resourceServer>/quotes`` for paying the incoming payment ``receiver``: a
        fixed debit, a fixed receive, or neither (the incoming payment's ``incomingAmount``).

        Raises:
            ValueError: both amounts.
            QuoteTooSmallError: the amount delivers nothing (``min_send_amount`` if known).
            InvalidReceiverError, TokenInactiveError, AccessDeniedError: see errors.
        """
        if debit_amount is not None and receive_amount is not None:
            raise ValueError("a quote fixes debitAmount or receiveAmount, not both")
        body: dict[str, Any] = {"walletAddress": wallet.id, "receiver": receiver, "method": "ilp"}
        if debit_amount is not None:
            body["debitAmount"] = debit_amount.to_json()
        if receive_amount is not None:
            body["receiveAmount"] = receive_amount.to_json()
        doc = await self._resource(grant, "POST", _under(wallet, "quotes"), "quote", body)
        return Quote.parse(doc)

    async def get_quote(self, url: str, grant: Grant) -> Quote:
        """Signed ``GET <quote id>``."""
        require_https(url, "quote")
        return Quote.parse(await self._resource(grant, "GET", url, "quote", None))

    async def create_outgoing_payment(
        self,
        wallet: WalletAddress,
        grant: Grant,
        quote: Quote,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> OutgoingPayment:
        """``POST <resourceServer>/outgoing-payments`` from ``quote``.

        Raises:
            GrantExhaustedError: past the grant's limit for this interval.
            TokenInactiveError, AccessDeniedError, InvalidReceiverError: see errors.
            NotSentError: the wallet could not be reached; nothing was sent.
            PaymentOutcomeUnknownError: the request went out but no usable answer came back:
                the payment may exist (count it as spent).
        """
        body: dict[str, Any] = {"walletAddress": wallet.id, "quoteId": quote.id}
        if metadata is not None:
            body["metadata"] = dict(metadata)
        doc = await self._create_payment(grant, _under(wallet, "outgoing-payments"), body)
        return OutgoingPayment.parse(doc)

    async def _create_payment(self, grant: Grant, url: str, body: Mapping[str, Any]) -> object:
        """POST an outgoing payment. Once the request may have reached the wallet, a lost
        answer means the payment may exist: its fate is unknown, never "not paid"."""
        try:
            return await self._resource(grant, "POST", url, "outgoing payment", body, once=True)
        except (NotSentError, SignatureError):
            raise
        except (UnreachableError, InvalidResponseError, NotJsonError) as e:
            raise PaymentOutcomeUnknownError(
                f"the wallet's answer to an outgoing payment was lost ({type(e).__name__})",
                url=url,
            ) from e

    async def pay(
        self,
        wallet: WalletAddress,
        grant: Grant,
        incoming_payment: str,
        debit_amount: Amount,
        *,
        metadata: Mapping[str, Any] | None = None,
    ) -> OutgoingPayment:
        """An outgoing payment of ``debit_amount`` to ``incoming_payment``: in one request
        (``{incomingPayment, debitAmount}``, Rafiki and the official client 6.9+) where the
        wallet takes that, else quote + outgoing payment. Support is learnt from the first
        refusal of the one-request form (a ``400`` that is none of the errors below) and
        remembered for the wallet's resource server.

        Raises:
            GrantExhaustedError, QuoteTooSmallError, InvalidReceiverError, TokenInactiveError,
            AccessDeniedError, NotSentError, PaymentOutcomeUnknownError: see
            :meth:`create_outgoing_payment`.
        """
        server = wallet.resource_server
        if self._direct.get(server, True):
            body: dict[str, Any] = {
                "walletAddress": wallet.id,
                "incomingPayment": incoming_payment,
                "debitAmount": debit_amount.to_json(),
            }
            if metadata is not None:
                body["metadata"] = dict(metadata)
            url = _under(wallet, "outgoing-payments")
            try:
                doc = await self._create_payment(grant, url, body)
            except ServerRefusedError as e:
                if type(e) is not ServerRefusedError or e.status not in (400, 422):
                    raise
                self._direct[server] = False
            else:
                self._direct[server] = True
                return OutgoingPayment.parse(doc)
        quote = await self.create_quote(wallet, grant, incoming_payment, debit_amount=debit_amount)
        return await self.create_outgoing_payment(wallet, grant, quote, metadata=metadata)

    def direct_payments_supported(self, wallet: WalletAddress) -> bool | None:
        """Whether ``wallet``'s resource server took an outgoing payment straight from an
        incoming payment (``None``: not tried yet)."""
        return self._direct.get(wallet.resource_server)

    async def get_outgoing_payment(self, url: str, grant: Grant) -> OutgoingPayment:
        """Signed ``GET <outgoing payment id>``: its latest state."""
        require_https(url, "outgoing payment")
        return OutgoingPayment.parse(
            await self._resource(grant, "GET", url, "outgoing payment", None)
        )

    async def list_outgoing_payments(
        self, wallet: WalletAddress, grant: Grant, *, first: int = 20, cursor: str | None = None
    ) -> OutgoingPaymentPage:
        """``GET <resourceServer>/outgoing-payments?wallet-address=…&first=…[&cursor=…]``."""
        query = {"wallet-address": wallet.id, "first": str(first)}
        if cursor is not None:
            query["cursor"] = cursor
        url = _under(wallet, "outgoing-payments") + "?" + urlencode(query)
        return OutgoingPaymentPage.parse(
            await self._resource(grant, "GET", url, "outgoing payment list", None)
        )

    async def wait_for_outgoing_payment(
        self,
        payment: OutgoingPayment,
        grant: Grant,
        *,
        timeout: dt.timedelta,
        interval: float = _POLL_INTERVAL,
    ) -> OutgoingPayment:
        """Poll ``payment`` until the wallet says it completed; the answer is that state.
        A wallet that does not answer for a while is polled again until ``timeout``.

        Raises:
            InsufficientFundsError: failed for lack of money in the user's account.
            OutgoingPaymentFailedError: failed otherwise (``e.payment.sent_amount`` left).
            PaymentOutcomeUnknownError: neither after ``timeout``: count it as spent.
        """
        deadline = self._client.now() + timeout
        latest = payment
        while True:
            if latest.state is OutgoingPaymentState.COMPLETED:
                return latest
            if latest.state is OutgoingPaymentState.FAILED:
                raise _failure(latest)
            if self._client.now() >= deadline:
                raise PaymentOutcomeUnknownError(
                    f"the wallet did not say whether payment {latest.id} completed",
                    payment=latest,
                    url=latest.id,
                )
            await self._sleep(interval)
            try:
                latest = await self.get_outgoing_payment(payment.id, grant)
            except (UnreachableError, InvalidResponseError):
                continue

    async def get_grant_spent_amounts(
        self, wallet: WalletAddress, grant: Grant
    ) -> GrantSpentAmounts | None:
        """``GET <resourceServer>/outgoing-payment-grant``: what the grant spent in its current
        interval; ``None`` where the wallet does not offer it (404; Rafiki before 3375)."""
        try:
            doc = await self._resource(
                grant, "GET", _under(wallet, "outgoing-payment-grant"), "grant spent amounts", None
            )
        except NotFoundError:
            return None
        return GrantSpentAmounts.parse(doc)

    # -- plumbing -------------------------------------------------------------------------

    async def _resource(
        self,
        grant: Grant,
        method: str,
        url: str,
        what: str,
        body: Mapping[str, Any] | None,
        *,
        once: bool = False,
    ) -> object:
        response = await self._client.signed(
            grant.key, method, url, body=body, token=grant.access_token, once=once
        )
        if not 200 <= response.status < 300:
            raise _resource_refusal(response, url, what)
        return self._client.read_json(response, url, what)

    def _grant_refusal(self, response: HttpResponse, url: str, what: str) -> OpenPaymentsError:
        """Auth-server errors (GNAP codes, RAF ``grant/routes.ts``, ``accessToken/routes.ts``,
        ``signature/middleware.ts``)."""
        status = response.status
        code, description = gnap_error(response.body)
        words = description.lower()
        detail = ": ".join(part for part in (code, description) if part)
        message = f"the {what} at {url} was refused: HTTP {status} ({detail})"
        if code == "too_fast":
            return TooFastError(message, url=url, status=status)
        # Rafiki answers a declined grant "grant interaction not approved" (continued with a
        # ref) or "grant cannot be continued" (polled); "cannot be polled" is our mistake.
        declined = code == "user_denied" or (
            code == "request_denied" and "cannot be polled" not in words
        )
        if declined:
            return GrantRejectedError(
                f"the user declined the grant at their wallet ({description or code})",
                url=url,
                status=status,
                code=code,
            )
        revoked = (
            code in ("invalid_rotation", "invalid_continuation")
            or (code == "invalid_request" and status == 404)
            or (code == "invalid_client" and "access token" in words)
        )
        if revoked:
            return GrantRevokedError(message, url=url, status=status, code=code)
        if code == "invalid_client":
            return SignatureError(message, url=url, status=status, code=code)
        if status == 404:
            return NotFoundError(message, url=url, status=status)
        return ServerRefusedError(message, url=url, status=status, code=code)


def _resource_refusal(response: HttpResponse, url: str, what: str) -> OpenPaymentsError:
    """Resource-server errors (RAF ``open_payments/auth/middleware.ts``, ``payment/outgoing/
    errors.ts``, ``quote/errors.ts``): Rafiki's body is ``{"error": {"code": "<status>",
    "description": <words>, "details"?}}``, so the words tell them apart."""
    status = response.status
    code, description = gnap_error(response.body)
    words = description.lower()
    message = f"the {what} at {url} was refused: HTTP {status} ({description or code})"
    if (status == 401 and words == "invalid token") or (status == 403 and "inactive" in words):
        return TokenInactiveError(message, url=url, status=status, code=code)
    if status == 403 and "insufficient grant" in words:
        return AccessDeniedError(message, url=url, status=status, code=code)
    if status == 403 and words == "unauthorized":
        return GrantExhaustedError(
            "the wallet refused: the budget it gave Trickle is used up",
            url=url,
            status=status,
            code=code,
        )
    if status == 400 and "invalid receiver" in words:
        return InvalidReceiverError(message, url=url, status=status, code=code)
    if status == 400 and "receive amount" in words:
        minimum = error_details(response.body).get("minSendAmount")
        try:
            min_send = None if minimum is None else Amount.parse(minimum, "minSendAmount")
        except InvalidResponseError:
            min_send = None
        return QuoteTooSmallError(
            message, url=url, status=status, code=code, min_send_amount=min_send
        )
    if status == 401 and "signature" in words:
        return SignatureError(message, url=url, status=status, code=code)
    if status == 404:
        return NotFoundError(f"no {what} at {url} (HTTP 404)", url=url, status=status)
    return ServerRefusedError(message, url=url, status=status, code=code)


def _failure(payment: OutgoingPayment) -> OutgoingPaymentFailedError:
    reason = payment.cancellation_reason or ""
    if "insufficient" in reason.lower():
        return InsufficientFundsError(
            "the wallet has not enough money for this payment", payment=payment, url=payment.id
        )
    return OutgoingPaymentFailedError(
        f"the wallet says payment {payment.id} failed", payment=payment, url=payment.id
    )


def _under(wallet: WalletAddress, path: str) -> str:
    return wallet.resource_server.rstrip("/") + "/" + path


def _restarted(pending: PendingGrant, now: dt.datetime) -> PendingGrant:
    """``pending`` with its ``wait`` counted from ``now`` (after a ``too_fast``)."""
    wait = pending.wait if pending.wait is not None else DEFAULT_GRANT_WAIT
    return replace(pending, wait=wait, requested_at=now)
