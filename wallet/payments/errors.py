"""Errors of the payment layer. Each names the JS error a page sees (``js_name``; see
``ui.webmonetization.errors.page_error``), and its message is fit for a page and a user."""

from __future__ import annotations

from wallet.errors import WalletError

__all__ = [
    "AmountRangeError",
    "BudgetExceededError",
    "ConnectFailedError",
    "DocumentGoneError",
    "GrantDeniedError",
    "IncomingPaymentClosedError",
    "InsecureWalletAddressError",
    "LinkError",
    "NotAWalletAddressError",
    "OriginNotAllowedError",
    "PaymentError",
    "PaymentStateError",
    "PaymentTimeoutError",
    "ReceiverUnreachableError",
    "WalletAddressNotFoundError",
    "WalletServerError",
    "WalletTimeoutError",
    "WalletUnreachableError",
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


# -- a link element's session (``wallet.payments.links``) -----------------------------------
# The page gets ``error`` at the link; the message says in words, for the user, why the site
# is not being paid. Messages name URLs and statuses, never a token, key or shared secret.


class LinkError(PaymentError):
    """A ``<link rel="monetization">`` cannot be paid (base of the errors below)."""


class InsecureWalletAddressError(LinkError):
    """The link's href is not an ``https:`` URL nor a payment pointer."""


class WalletAddressNotFoundError(LinkError):
    """The wallet address answered HTTP 404."""


class NotAWalletAddressError(LinkError):
    """The href answered something that is neither a wallet address nor SPSP (HTML, plain
    text, broken JSON, JSON of the wrong shape)."""


class WalletUnreachableError(LinkError):
    """The wallet's server could not be reached (refused, reset, DNS, TLS not trusted)."""


class WalletTimeoutError(WalletUnreachableError):
    """The wallet's server did not answer in time."""


class GrantDeniedError(LinkError):
    """The wallet's auth server refused Trickle an incoming-payment grant."""


class IncomingPaymentClosedError(LinkError):
    """The incoming payment expired or was completed, and no new one could be made."""


class WalletServerError(LinkError):
    """The wallet's server refused a request for another reason (its status says which)."""


class ReceiverUnreachableError(LinkError):
    """The STREAM receiver behind the wallet address could not be reached over the user's ILP
    path (no route, rejected handshake), or it closed the connection."""
