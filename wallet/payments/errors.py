"""Errors of the payment layer. Each names the JS error a page sees (``js_name``; see
``ui.webmonetization.errors.page_error``), and its message is fit for a page and a user."""

from __future__ import annotations

from wallet.errors import WalletError

__all__ = [
    "AmountRangeError",
    "BudgetExceededError",
    "ConnectFailedError",
    "DocumentGoneError",
    "OriginNotAllowedError",
    "PaymentError",
    "PaymentStateError",
    "PaymentTimeoutError",
]


class PaymentError(WalletError):
    js_name = "Error"


class BudgetExceededError(PaymentError):
    """A limit stopped the connection for good (a cap, the budget, the balance, blocked, or
    a provider that lied)."""

    js_name = "BudgetExceededError"

    def __init__(self, reason: str = "") -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(f"the spending limit for this site is reached{detail}")


class PaymentTimeoutError(PaymentError):
    js_name = "TimeoutError"


class ConnectFailedError(PaymentError):
    """IL-DCP or the STREAM handshake failed."""


class PaymentStateError(PaymentError):
    js_name = "InvalidStateError"


class AmountRangeError(PaymentError):
    js_name = "RangeError"


class OriginNotAllowedError(PaymentError):
    """The document has an opaque origin (``data:``, sandboxed) or one we cannot vouch for."""

    js_name = "NotAllowedError"


class DocumentGoneError(PaymentError):
    """The document navigated away or closed while its payment was being set up."""

    js_name = "AbortError"
