"""The payment layer: one place in ``wallet`` decides every packet.

For every way of paying a site (draft-4 page connections, ``<link rel="monetization">``
sessions (:mod:`wallet.payments.links`); next: Open Payments outgoing payments) it owns
admission (site policy, global budget, balance), reservation, pacing, the outcome of each
packet (:mod:`wallet.payments.outcomes` has the table), waking waiting senders, and the
assembly of a STREAM connection over the user's ILP path.
``ui`` reports documents, attention and lifecycle (:class:`Payments`, :class:`DocumentHandle`)
and shows what this layer says.

Invariants:
- at any moment, spent + unresolved + in flight + held ≤ the tightest cap (the ledger's leases
  count every open reservation), so the receiver's own count never exceeds what the user
  allowed, whatever a page, a handler or the network does;
- money whose fate is uncertain is charged, never refunded;
- a document's sessions end with it; a provider that lied pays nothing more for it;
- a document's site follows HTML's origin rules; opaque origins are refused.
"""

from __future__ import annotations

from wallet.payments.documents import DocumentHandle
from wallet.payments.draft4 import (
    PAGE_CONNECTION_TEMPLATE,
    ConnectionListener,
    Draft4Connection,
    Draft4Stream,
    Fields,
    StreamListener,
)
from wallet.payments.errors import (
    AmountRangeError,
    BudgetExceededError,
    ConnectFailedError,
    DocumentGoneError,
    GrantDeniedError,
    IncomingPaymentClosedError,
    InsecureWalletAddressError,
    LinkError,
    NotAWalletAddressError,
    OriginNotAllowedError,
    PaymentError,
    PaymentStateError,
    PaymentTimeoutError,
    ReceiverUnreachableError,
    WalletAddressNotFoundError,
    WalletServerError,
    WalletTimeoutError,
    WalletUnreachableError,
)
from wallet.payments.layer import Payments, WalletBudget
from wallet.payments.link_targets import (
    DeferredResolver,
    LinkResolver,
    LinkTarget,
    OpenPaymentsResolver,
)
from wallet.payments.links import LinkListener, LinkPayment, LinkSession
from wallet.payments.origins import document_origin, origin_of_url
from wallet.payments.outcomes import HELD_MAX, SETTLEMENT, Settlement

__all__ = [
    "HELD_MAX",
    "PAGE_CONNECTION_TEMPLATE",
    "SETTLEMENT",
    "AmountRangeError",
    "BudgetExceededError",
    "ConnectFailedError",
    "ConnectionListener",
    "DeferredResolver",
    "DocumentGoneError",
    "DocumentHandle",
    "Draft4Connection",
    "Draft4Stream",
    "Fields",
    "GrantDeniedError",
    "IncomingPaymentClosedError",
    "InsecureWalletAddressError",
    "LinkError",
    "LinkListener",
    "LinkPayment",
    "LinkResolver",
    "LinkSession",
    "LinkTarget",
    "NotAWalletAddressError",
    "OpenPaymentsResolver",
    "OriginNotAllowedError",
    "PaymentError",
    "PaymentStateError",
    "PaymentTimeoutError",
    "Payments",
    "ReceiverUnreachableError",
    "Settlement",
    "StreamListener",
    "WalletAddressNotFoundError",
    "WalletBudget",
    "WalletServerError",
    "WalletTimeoutError",
    "WalletUnreachableError",
    "document_origin",
    "origin_of_url",
]
