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

from importlib import import_module
from typing import TYPE_CHECKING

# What the package exports is imported on first use (PEP 562): ``ui`` imports the light parts
# (errors, origins) before the browser's first paint, and the rest — the ledger, SQLAlchemy,
# the Open Payments client — only when the wallet starts. Add an export to both lists.
if TYPE_CHECKING:
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

_LAZY = {
    "DocumentHandle": "wallet.payments.documents",
    "ConnectionListener": "wallet.payments.draft4",
    "Draft4Connection": "wallet.payments.draft4",
    "Draft4Stream": "wallet.payments.draft4",
    "Fields": "wallet.payments.draft4",
    "PAGE_CONNECTION_TEMPLATE": "wallet.payments.draft4",
    "StreamListener": "wallet.payments.draft4",
    "AmountRangeError": "wallet.payments.errors",
    "BudgetExceededError": "wallet.payments.errors",
    "ConnectFailedError": "wallet.payments.errors",
    "DocumentGoneError": "wallet.payments.errors",
    "GrantDeniedError": "wallet.payments.errors",
    "IncomingPaymentClosedError": "wallet.payments.errors",
    "InsecureWalletAddressError": "wallet.payments.errors",
    "LinkError": "wallet.payments.errors",
    "NotAWalletAddressError": "wallet.payments.errors",
    "OriginNotAllowedError": "wallet.payments.errors",
    "PaymentError": "wallet.payments.errors",
    "PaymentStateError": "wallet.payments.errors",
    "PaymentTimeoutError": "wallet.payments.errors",
    "ReceiverUnreachableError": "wallet.payments.errors",
    "WalletAddressNotFoundError": "wallet.payments.errors",
    "WalletServerError": "wallet.payments.errors",
    "WalletTimeoutError": "wallet.payments.errors",
    "WalletUnreachableError": "wallet.payments.errors",
    "Payments": "wallet.payments.layer",
    "WalletBudget": "wallet.payments.layer",
    "DeferredResolver": "wallet.payments.link_targets",
    "LinkResolver": "wallet.payments.link_targets",
    "LinkTarget": "wallet.payments.link_targets",
    "OpenPaymentsResolver": "wallet.payments.link_targets",
    "LinkListener": "wallet.payments.links",
    "LinkPayment": "wallet.payments.links",
    "LinkSession": "wallet.payments.links",
    "document_origin": "wallet.payments.origins",
    "origin_of_url": "wallet.payments.origins",
    "HELD_MAX": "wallet.payments.outcomes",
    "SETTLEMENT": "wallet.payments.outcomes",
    "Settlement": "wallet.payments.outcomes",
}


if not TYPE_CHECKING:  # mypy reads the imports above; a typo stays an error for it

    def __getattr__(name: str) -> object:
        module = _LAZY.get(name)
        if module is None:
            raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
        value = getattr(import_module(module), name)
        globals()[name] = value
        return value


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
