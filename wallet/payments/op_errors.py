"""Why the user's connected Open Payments wallet does not pay, in words for the user.

Each is a :class:`~wallet.payments.errors.LinkError` (the link's session stops with it, the page
hears ``stop``/``error``) and says what fixes it. ``reconnect``: connecting the wallet again
(a new grant, perhaps with a new budget) is the fix the UI offers. ``for_wallet``: the refusal
concerns the wallet, not the one site, so every session paid from it stops until it is fixed.
Messages name URLs and statuses, never a token or key.
"""

from __future__ import annotations

from wallet.payments.errors import LinkError

__all__ = [
    "FundingError",
    "GrantRevokedError",
    "GrantUsedUpError",
    "InsufficientFundsError",
    "InvalidReceiverError",
    "KeyNotAcceptedError",
    "PaymentFateUnknownError",
    "StreamOnlySiteError",
    "WalletRefusedError",
    "WalletStuckError",
]


class FundingError(LinkError):
    """The user's wallet did not make a payment (base). ``words`` say what happened and what
    fixes it; a ``detail`` (the wallet's status, a URL) follows in brackets."""

    reconnect = False
    for_wallet = False
    retry = False  # (with ``for_wallet``) sessions wait and try again instead of stopping
    words = "Your wallet could not send a payment to this site."

    def __init__(self, detail: str = "", *, words: str | None = None) -> None:
        more = f" ({detail})" if detail else ""
        super().__init__(f"{words or self.words}{more}")


class GrantUsedUpError(FundingError):
    """The grant's ``debitAmount`` for this period is spent (Trickle's count or the wallet's
    refusal: Rafiki's ``403 unauthorized`` / "insufficient grant")."""

    reconnect = True
    for_wallet = True

    def __init__(self, renews: str | None = None) -> None:
        until = f" until {renews}" if renews else ""
        super().__init__(
            words=f"Your wallet's budget for Trickle is used up{until}. "
            "Reconnect your wallet with a new budget to go on paying."
        )


class InsufficientFundsError(FundingError):
    """The wallet has too little money for the payment: every session waits until it has."""

    for_wallet = True
    retry = True
    words = (
        "Your wallet does not have enough money to pay this site. "
        "Add money to your wallet; Trickle goes on when it can."
    )


class GrantRevokedError(FundingError):
    """The grant was revoked or has expired, and its token cannot be rotated."""

    reconnect = True
    for_wallet = True
    words = (
        "Your wallet no longer lets Trickle pay: the permission you gave was revoked or "
        "has expired. Reconnect your wallet to go on paying."
    )


class KeyNotAcceptedError(FundingError):
    """The wallet rejects Trickle's signature: the key is not (or no longer) registered."""

    reconnect = True
    for_wallet = True
    words = (
        "Your wallet does not accept Trickle's key. Add the key shown on the Account page "
        "to your wallet, or reconnect it."
    )


class WalletStuckError(FundingError):
    """The wallet does not answer, or its payments stay pending: Trickle retries later."""

    words = (
        "Your wallet does not answer or its payments do not go through; "
        "Trickle tries again in a moment."
    )


class PaymentFateUnknownError(WalletStuckError):
    """A payment request may or may not have been taken: it is counted as spent."""


class WalletRefusedError(FundingError):
    """The wallet refused the payment for another reason (its status says which)."""

    words = "Your wallet refused to pay this site."


class InvalidReceiverError(FundingError):
    """The site's incoming payment is gone or expired (Rafiki's ``400 invalid receiver``)."""

    words = "This site's wallet stopped taking this payment."


class StreamOnlySiteError(FundingError):
    """The site is reachable only over STREAM (SPSP, no incoming payment): an Open Payments
    wallet cannot pay it."""

    words = (
        "This site is not being paid: it takes only Interledger (STREAM) payments, which "
        "your Open Payments wallet cannot make. Make your local account the funding source "
        "on the Account page to pay it."
    )
