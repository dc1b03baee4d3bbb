"""What the user's own wallet answers when Trickle pays from it: pending interactive grants and
their finish redirect, grant limits, quotes, outgoing payments and a grant's spent amounts.

Field names and types follow the OpenAPI files (spec 1.3.0): auth-server ``interact-response``,
``continue``, ``limits-outgoing``; resource-server ``quote``, ``outgoing-payment``,
``outgoing-payment-with-spent-amounts``, ``page-info`` and ``get-outgoing-payment-grant``.
Parsing is strict where we act on a field and lenient about fields we ignore, as in
:mod:`wallet.openpayments.models`. Tokens and nonces are hidden from ``repr``.
"""

from __future__ import annotations

import base64
import datetime as dt
import enum
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qs, urlsplit

from wallet.openpayments.errors import (
    GrantRejectedError,
    InteractionHashError,
    InvalidResponseError,
)
from wallet.openpayments.intervals import monthly_interval
from wallet.openpayments.models import (
    Amount,
    https_field,
    parse_timestamp,
    require_field,
)
from wallet.openpayments.signing import ClientKey
from wallet.secrets import Secret

__all__ = [
    "GrantLimits",
    "GrantSpentAmounts",
    "InteractionFinish",
    "OutgoingPayment",
    "OutgoingPaymentPage",
    "OutgoingPaymentState",
    "PendingGrant",
    "Quote",
    "finish_hash",
    "monthly_interval",
]


# -- grants ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrantLimits:
    """``limits`` of an ``outgoing-payment`` access item: ``debit_amount`` or
    ``receive_amount``, never both (official client ``grant.ts``: "Only one of debitAmount or
    receiveAmount may be provided"), and an optional ISO 8601 repeating ``interval``.

    Raises:
        ValueError: both amounts, or neither.
    """

    debit_amount: Amount | None = None
    receive_amount: Amount | None = None
    interval: str | None = None

    def __post_init__(self) -> None:
        if (self.debit_amount is None) == (self.receive_amount is None):
            raise ValueError("a grant limits debitAmount or receiveAmount: exactly one of them")

    def to_json(self) -> dict[str, Any]:
        doc: dict[str, Any] = {}
        if self.debit_amount is not None:
            doc["debitAmount"] = self.debit_amount.to_json()
        if self.receive_amount is not None:
            doc["receiveAmount"] = self.receive_amount.to_json()
        if self.interval is not None:
            doc["interval"] = self.interval
        return doc


def finish_hash(
    client_nonce: str, finish_nonce: str, interact_ref: str, grant_endpoint: str
) -> str:
    """GNAP §4.2.3 as Rafiki computes it (``interaction/routes.ts`` ``handleFinishableGrant``):
    base64 (standard, padded) of SHA-256 over ``"<client nonce>\\n<interact.finish>\\n
    <interact_ref>\\n<grant endpoint>"``, the grant endpoint being the URL the grant request was
    POSTed to (the wallet's ``authServer``)."""
    data = f"{client_nonce}\n{finish_nonce}\n{interact_ref}\n{grant_endpoint}"
    return base64.b64encode(hashlib.sha256(data.encode()).digest()).decode("ascii")


@dataclass(frozen=True)
class InteractionFinish:
    """What the wallet's finish redirect brought back: ``?interact_ref=…&hash=…``."""

    interact_ref: str = field(repr=False)
    hash: str = field(repr=False)

    @classmethod
    def from_redirect(cls, url: str) -> InteractionFinish:
        """Read the finish redirect URL the browser was sent to.

        Raises:
            GrantRejectedError: ``result=grant_rejected`` (the user declined) or another
                ``result`` (the interaction expired or is unknown).
            InteractionHashError: no ``hash`` or no ``interact_ref``.
        """
        query = parse_qs(urlsplit(url).query)
        result = query.get("result", [""])[0]
        if result:
            words = "declined the grant" if result == "grant_rejected" else f"ended it ({result})"
            raise GrantRejectedError(f"the user's wallet says the user {words}", code=result)
        refs, hashes = query.get("interact_ref", []), query.get("hash", [])
        if len(refs) != 1 or len(hashes) != 1 or not refs[0] or not hashes[0]:
            raise InteractionHashError("the finish redirect carries no interact_ref and hash")
        return cls(refs[0], hashes[0])


@dataclass(frozen=True)
class PendingGrant:
    """An interactive grant waiting for the user: open ``redirect_url`` for them, then continue
    at ``continue_uri`` with ``continue_token`` (no sooner than ``wait`` seconds after
    ``requested_at``)."""

    redirect_url: str
    continue_uri: str
    continue_token: Secret = field(repr=False)
    wait: int | None
    requested_at: dt.datetime
    grant_endpoint: str
    """The URL the grant request went to (the wallet's ``authServer``): part of the hash."""
    key: ClientKey
    finish_nonce: str | None = field(default=None, repr=False)
    """The auth server's ``interact.finish`` (``None`` when no finish method was asked for)."""
    client_nonce: str | None = field(default=None, repr=False)
    """Our ``interact.finish.nonce`` (``None`` when no finish method was asked for)."""

    def next_poll_at(self) -> dt.datetime:
        """The earliest time a continue request is not ``too_fast``."""
        return self.requested_at + dt.timedelta(seconds=self.wait or 0)

    def verify_finish(self, finish: InteractionFinish) -> None:
        """Check the finish redirect's ``hash`` (constant-time compare).

        Raises:
            InteractionHashError: wrong hash, or this grant asked for no finish redirect.
        """
        if self.client_nonce is None or self.finish_nonce is None:
            raise InteractionHashError("this grant asked for no finish redirect")
        # The grant endpoint as we sent to it, or with its trailing "/" toggled (the Web
        # Monetization extension accepts both: outgoingPaymentGrant.ts verifyInteractionHash).
        endpoint = self.grant_endpoint
        toggled = endpoint[:-1] if endpoint.endswith("/") else endpoint + "/"
        matches = [
            hmac.compare_digest(
                finish_hash(
                    self.client_nonce, self.finish_nonce, finish.interact_ref, url
                ).encode(),
                finish.hash.encode(),
            )
            for url in (endpoint, toggled)
        ]
        if not any(matches):
            raise InteractionHashError(
                "the finish redirect's hash is wrong: it is not from the user's wallet for this "
                "grant",
                url=self.grant_endpoint,
            )

    @classmethod
    def parse(
        cls,
        doc: object,
        *,
        key: ClientKey,
        grant_endpoint: str,
        requested_at: dt.datetime,
        client_nonce: str | None,
        previous: PendingGrant | None = None,
    ) -> PendingGrant:
        """A grant answer with ``interact`` (the first answer) or with only ``continue`` (a
        continue answer while the user has not decided: ``previous`` gives the rest)."""
        where = "pending grant"
        if not isinstance(doc, Mapping):
            raise InvalidResponseError("the grant answer is not a JSON object")
        cont = doc.get("continue")
        if not isinstance(cont, Mapping) or not isinstance(cont.get("access_token"), Mapping):
            raise InvalidResponseError("the grant answer has no continue access_token")
        wait = cont.get("wait")
        wait = wait if isinstance(wait, int) and not isinstance(wait, bool) and wait >= 0 else None
        interact = doc.get("interact")
        if isinstance(interact, Mapping):
            redirect = https_field(interact, "redirect", where)
            finish = interact.get("finish")
            finish_nonce = finish if isinstance(finish, str) else None
        elif previous is not None:
            redirect, finish_nonce = previous.redirect_url, previous.finish_nonce
        else:
            raise InvalidResponseError("the grant answer has neither access_token nor interact")
        if client_nonce is not None and finish_nonce is None:
            raise InvalidResponseError("the grant answer has no interact.finish")
        return cls(
            redirect_url=redirect,
            continue_uri=https_field(cont, "uri", where),
            continue_token=Secret(require_field(cont["access_token"], "value", str, where)),
            wait=wait,
            requested_at=requested_at,
            grant_endpoint=grant_endpoint,
            key=key,
            finish_nonce=finish_nonce,
            client_nonce=client_nonce,
        )


# -- resources ------------------------------------------------------------------------------


def _amount(doc: Mapping[str, Any], name: str, where: str) -> Amount:
    return Amount.parse(doc.get(name), f"{where} {name}")


def _optional_amount(doc: Mapping[str, Any], name: str, where: str) -> Amount | None:
    value = doc.get(name)
    return None if value is None else Amount.parse(value, f"{where} {name}")


def _object(doc: object, where: str) -> Mapping[str, Any]:
    if not isinstance(doc, Mapping):
        raise InvalidResponseError(f"the {where} is not a JSON object")
    return doc


@dataclass(frozen=True)
class Quote:
    """A quote: what paying ``receiver`` debits the user (``debit_amount``, the user's asset)
    and delivers (``receive_amount``, the receiver's asset); valid until ``expires_at``."""

    id: str
    wallet_address: str
    receiver: str
    debit_amount: Amount
    receive_amount: Amount
    method: str
    created_at: dt.datetime
    expires_at: dt.datetime | None

    @classmethod
    def parse(cls, raw: object) -> Quote:
        where = "quote"
        doc = _object(raw, where)
        expires = doc.get("expiresAt")
        return cls(
            id=https_field(doc, "id", where),
            wallet_address=https_field(doc, "walletAddress", where),
            receiver=https_field(doc, "receiver", where),
            debit_amount=_amount(doc, "debitAmount", where),
            receive_amount=_amount(doc, "receiveAmount", where),
            method=require_field(doc, "method", str, where),
            created_at=parse_timestamp(doc.get("createdAt"), "quote createdAt"),
            expires_at=None if expires is None else parse_timestamp(expires, "quote expiresAt"),
        )


class OutgoingPaymentState(enum.Enum):
    """What the Open Payments API lets a client tell: ``FAILED``, ``COMPLETED`` or ``SENDING``
    (funding or sending, still the wallet's to finish). See :attr:`OutgoingPayment.state`."""

    SENDING = "sending"
    COMPLETED = "completed"
    FAILED = "failed"


@dataclass(frozen=True)
class OutgoingPayment:
    """An outgoing payment from the user's wallet. ``sent_amount`` is what has left it so far
    (the user's asset); the ``grant_spent_*`` amounts come only with a create answer
    (``outgoing-payment-with-spent-amounts``)."""

    id: str
    wallet_address: str
    receiver: str
    quote_id: str | None
    failed: bool
    debit_amount: Amount
    receive_amount: Amount
    sent_amount: Amount
    created_at: dt.datetime
    metadata: Mapping[str, Any] | None = None
    grant_spent_debit_amount: Amount | None = None
    grant_spent_receive_amount: Amount | None = None

    @property
    def state(self) -> OutgoingPaymentState:
        """The payment's state as far as the API shows it.

        The OpenAPI's ``outgoing-payment`` has no ``state`` (Rafiki's FUNDING, SENDING,
        COMPLETED, FAILED, CANCELLED stay on the server); it has ``failed`` — "Describes
        whether the payment failed to send its full amount" — and three amounts:
        ``debitAmount`` "should be deducted from the sender's account when this outgoing
        payment has been paid", ``receiveAmount`` "should be received by the receiver when
        this outgoing payment has been paid", ``sentAmount`` "has been sent under this
        outgoing payment" (SPEC resource-server.yaml).

        A completed payment's ``sentAmount`` need not reach its ``debitAmount``: the SPEC's
        own example has ``debitAmount`` 2600, ``receiveAmount`` 2500, ``sentAmount`` 2500 —
        the difference is the wallet's fee, which Rafiki takes out of ``debitAmount`` and
        does not send ("The Account Servicing Entity may charge fees on top of that",
        Rafiki's integration docs, "Quotes / Fees"). So a payment counts as completed when
        it did not fail and either everything was sent (``sentAmount`` ≥ ``debitAmount``:
        no fee) or, in one asset, what was sent covers what the receiver is to get
        (``sentAmount`` ≥ ``receiveAmount``: nothing left to deliver). Across assets with a
        fee, nothing the client sees says so: the payment stays ``SENDING`` until the
        caller's deadline (and is then charged as of unknown fate).
        """
        if self.failed:
            return OutgoingPaymentState.FAILED
        sent, receive = self.sent_amount, self.receive_amount
        if sent.value >= self.debit_amount.value:
            return OutgoingPaymentState.COMPLETED
        one_asset = (sent.asset_code, sent.asset_scale) == (receive.asset_code, receive.asset_scale)
        if one_asset and 0 < receive.value <= sent.value:
            return OutgoingPaymentState.COMPLETED
        return OutgoingPaymentState.SENDING

    @property
    def cancellation_reason(self) -> str | None:
        """Why the wallet cancelled it, where it says (Rafiki keeps the reason its operator
        gave in ``metadata.cancellationReason``)."""
        reason = (self.metadata or {}).get("cancellationReason")
        return reason if isinstance(reason, str) else None

    @classmethod
    def parse(cls, raw: object) -> OutgoingPayment:
        where = "outgoing payment"
        doc = _object(raw, where)
        failed = doc.get("failed", False)
        if not isinstance(failed, bool):
            raise InvalidResponseError(f"{where}: 'failed' is not a boolean")
        quote_id = doc.get("quoteId")
        metadata = doc.get("metadata")
        return cls(
            id=https_field(doc, "id", where),
            wallet_address=https_field(doc, "walletAddress", where),
            receiver=https_field(doc, "receiver", where),
            quote_id=quote_id if isinstance(quote_id, str) else None,
            failed=failed,
            debit_amount=_amount(doc, "debitAmount", where),
            receive_amount=_amount(doc, "receiveAmount", where),
            sent_amount=_amount(doc, "sentAmount", where),
            created_at=parse_timestamp(doc.get("createdAt"), "outgoing payment createdAt"),
            metadata=metadata if isinstance(metadata, Mapping) else None,
            grant_spent_debit_amount=_optional_amount(doc, "grantSpentDebitAmount", where),
            grant_spent_receive_amount=_optional_amount(doc, "grantSpentReceiveAmount", where),
        )


@dataclass(frozen=True)
class OutgoingPaymentPage:
    """One page of ``GET /outgoing-payments?wallet-address=…``."""

    payments: tuple[OutgoingPayment, ...]
    has_next_page: bool
    has_previous_page: bool
    start_cursor: str | None
    end_cursor: str | None

    @classmethod
    def parse(cls, raw: object) -> OutgoingPaymentPage:
        doc = _object(raw, "outgoing payment list")
        result = doc.get("result")
        pagination = _object(doc.get("pagination"), "outgoing payment list pagination")
        if not isinstance(result, list):
            raise InvalidResponseError("the outgoing payment list has no result list")
        start, end = pagination.get("startCursor"), pagination.get("endCursor")
        return cls(
            payments=tuple(OutgoingPayment.parse(item) for item in result),
            has_next_page=require_field(pagination, "hasNextPage", bool, "page-info"),
            has_previous_page=require_field(pagination, "hasPreviousPage", bool, "page-info"),
            start_cursor=start if isinstance(start, str) else None,
            end_cursor=end if isinstance(end, str) else None,
        )


@dataclass(frozen=True)
class GrantSpentAmounts:
    """``GET /outgoing-payment-grant``: what the grant has spent in its current interval
    (``None`` where the wallet has nothing to report)."""

    debit_amount: Amount | None
    receive_amount: Amount | None

    @classmethod
    def parse(cls, raw: object) -> GrantSpentAmounts:
        where = "outgoing payment grant"
        doc = _object(raw, where)
        if "spentDebitAmount" not in doc or "spentReceiveAmount" not in doc:
            raise InvalidResponseError(f"the {where} lacks spentDebitAmount/spentReceiveAmount")
        return cls(
            debit_amount=_optional_amount(doc, "spentDebitAmount", where),
            receive_amount=_optional_amount(doc, "spentReceiveAmount", where),
        )
