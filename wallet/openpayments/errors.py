"""Named errors of the Open Payments client, one per way a wallet server can fail us.

Every error derives from :class:`OpenPaymentsError` (a :class:`~wallet.errors.WalletError`), so
callers catch one base and ``ui`` can put each into words. Other exceptions (the HTTP client's,
ssl, joserfc, http-message-signatures) are wrapped, never passed through. Messages carry URLs and
status codes, never an access token, a continue token, a private key or a shared secret.
"""

from __future__ import annotations

from wallet.errors import WalletError

__all__ = [
    "GrantRefusedError",
    "IncomingPaymentExpiredError",
    "InsecureUrlError",
    "InvalidResponseError",
    "NotFoundError",
    "NotJsonError",
    "OpenPaymentsError",
    "RequestTimeoutError",
    "ServerRefusedError",
    "SignatureError",
    "TlsError",
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


class TlsError(UnreachableError):
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
