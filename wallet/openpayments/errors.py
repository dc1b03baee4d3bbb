"""Named errors of the Open Payments client, one per way a wallet server can fail us.

Every error derives from :class:`OpenPaymentsError` (a :class:`~wallet.errors.WalletError`), so
callers catch one base and ``ui`` can put each into words. Other exceptions (the HTTP client's,
ssl, joserfc, http-message-signatures) are wrapped, never passed through. Messages carry URLs and
status codes, never an access token, a continue token, a private key or a shared secret.
"""

from __future__ import annotations

from wallet.errors import WalletError

__all__ = [
    "AccessDeniedError",
    "GrantExhaustedError",
    "GrantRefusedError",
    "GrantRejectedError",
    "GrantRevokedError",
    "GrantTimeoutError",
    "IncomingPaymentExpiredError",
    "InsecureUrlError",
    "InsufficientFundsError",
    "InteractionHashError",
    "InvalidReceiverError",
    "InvalidResponseError",
    "NotFoundError",
    "NotJsonError",
    "NotSentError",
    "OpenPaymentsError",
    "OutgoingPaymentFailedError",
    "PaymentOutcomeUnknownError",
    "QuoteTooSmallError",
    "RequestTimeoutError",
    "ServerRefusedError",
    "SignatureError",
    "TlsError",
    "TokenInactiveError",
    "TooFastError",
    "UnreachableError",
]


class OpenPaymentsError(WalletError):
    """Base of every Open Payments failure."""

    def __init__(self, message: str, *, url: str = "", status: int | None = None) -> None:
        super().__init__(message)
        self.url = url
        self.status = status


class InsecureUrlError(OpenPaymentsError, ValueError):
    """Not an ``https:`` URL (wallet addresses, auth and resource servers are https only)."""


class UnreachableError(OpenPaymentsError):
    """The server could not be reached (refused, reset, DNS, closed mid-answer)."""


class NotSentError(UnreachableError):
    """Could not connect: the request was never sent (refused, DNS, no route)."""


class TlsError(NotSentError):
    """TLS failed: the certificate is not trusted (system store + the extra CA file) or wrong."""


class RequestTimeoutError(UnreachableError):
    """The server did not answer in time."""


class NotFoundError(OpenPaymentsError):
    """HTTP 404: no wallet address, grant or incoming payment there."""


class NotJsonError(OpenPaymentsError):
    """The answer is not JSON (an HTML page, plain text, broken JSON)."""


class InvalidResponseError(OpenPaymentsError):
    """JSON, but not what the Open Payments API says (a field missing or of the wrong type)."""


class ServerRefusedError(OpenPaymentsError):
    """Any other non-2xx answer. ``code`` is the GNAP error code when the body had one."""

    def __init__(
        self, message: str, *, url: str = "", status: int | None = None, code: str = ""
    ) -> None:
        super().__init__(message, url=url, status=status)
        self.code = code


class GrantRefusedError(ServerRefusedError):
    """The auth server refused the grant, or answered one that needs interaction."""


class SignatureError(ServerRefusedError):
    """The server rejected our request signature (401, ``invalid_client``, ...)."""


class IncomingPaymentExpiredError(OpenPaymentsError):
    """The incoming payment has expired or is completed: it takes no more money."""


# -- the user's wallet (interactive grants, quotes, outgoing payments) ---------------------


class GrantRejectedError(GrantRefusedError):
    """The user declined the grant at their wallet (finish ``result=grant_rejected``, or the
    continue request answered ``request_denied``)."""


class GrantTimeoutError(OpenPaymentsError):
    """The user did not answer the consent page before we stopped waiting."""


class InteractionHashError(OpenPaymentsError):
    """The finish redirect's ``hash`` is not the one the auth server must have computed: the
    redirect did not come from the user's wallet for this grant (GNAP §4.2.3). Also raised for
    a finish redirect that carries no ``hash`` or no ``interact_ref``."""


class TooFastError(ServerRefusedError):
    """``400 too_fast``: continued sooner than the grant's ``wait`` seconds."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        code: str = "too_fast",
        wait: int | None = None,
    ) -> None:
        super().__init__(message, url=url, status=status, code=code)
        self.wait = wait


class GrantRevokedError(ServerRefusedError):
    """The grant or its token is gone: revoked (Disconnect, or at the wallet), cancelled, or
    its management URL is no longer known (rotation refused). Reconnecting is the only fix."""


class TokenInactiveError(ServerRefusedError):
    """The resource server refused the access token (``401 Invalid Token`` or ``403 Inactive
    Token``): it expired or was rotated away. Rotate it (:meth:`rotate_token`); if rotation
    fails the grant was revoked (:class:`GrantRevokedError`)."""


class AccessDeniedError(ServerRefusedError):
    """``403 Insufficient Grant``: the token does not carry this action (or this wallet)."""


class GrantExhaustedError(ServerRefusedError):
    """The wallet refused an outgoing payment past the grant's limit (Rafiki: ``403``,
    ``"unauthorized"``, its ``InsufficientGrant``): the budget the user gave Trickle is used up
    for this interval."""


class InvalidReceiverError(ServerRefusedError):
    """``400 invalid receiver``: the incoming payment is gone, completed or expired."""


class QuoteTooSmallError(ServerRefusedError):
    """``400 non-positive receive amount``: too little to deliver anything. ``min_send_amount``
    is the smallest debit amount that would work, when the wallet says (Rafiki's
    ``details.minSendAmount``), else ``None``."""

    def __init__(
        self,
        message: str,
        *,
        url: str = "",
        status: int | None = None,
        code: str = "",
        min_send_amount: object = None,
    ) -> None:
        super().__init__(message, url=url, status=status, code=code)
        self.min_send_amount = min_send_amount
        """An :class:`~wallet.openpayments.models.Amount`, or ``None``."""


class OutgoingPaymentFailedError(OpenPaymentsError):
    """The wallet reports the outgoing payment ``failed``. ``payment`` is its last state
    (its ``sent_amount`` is what left the wallet anyway, and counts as spent)."""

    def __init__(self, message: str, *, payment: object, url: str = "") -> None:
        super().__init__(message, url=url)
        self.payment = payment


class InsufficientFundsError(OutgoingPaymentFailedError):
    """The wallet did not fund the payment: not enough money in the user's account (Rafiki's
    ASE cancels it; ``metadata.cancellationReason`` says so)."""


class PaymentOutcomeUnknownError(OpenPaymentsError):
    """The payment was neither completed nor failed when we stopped polling (or the wallet
    stopped answering). Its money must be counted as spent. ``payment`` is the last state
    seen (``None`` if the create request itself got no answer)."""

    def __init__(self, message: str, *, payment: object = None, url: str = "") -> None:
        super().__init__(message, url=url)
        self.payment = payment
