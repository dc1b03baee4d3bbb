"""The Open Payments client's only I/O: one HTTPS request, answered as ``(status, headers, body)``.

:class:`HttpTransport` puts Trickle's one HTTP client (:class:`wallet.net.http.HttpSession`)
behind the one method the protocol code uses (:class:`Transport`:
``async request(method, url, headers, body) -> HttpResponse``).

Trust: the system trust store plus, optionally, one extra CA file (PEM) — what corporate and
test networks need. It comes from the ``extra_ca_file`` argument or the ``TRICKLE_EXTRA_CA_FILE``
environment variable. ``https:`` only: there is no ``http:`` special case, not even for
loopback; tests put a TLS front with their own CA before local servers. Redirects are not
followed (a signed request is bound to its URL). Failures become the named errors of
:mod:`wallet.openpayments.errors`; the HTTP client's and ssl's exceptions never leave this
module.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import urlsplit

from wallet.net import errors as net
from wallet.net.http import HttpResponse, HttpSession
from wallet.net.origin import tls_context as system_tls_context
from wallet.openpayments.errors import (
    InsecureUrlError,
    NotSentError,
    OpenPaymentsError,
    RequestTimeoutError,
    TlsError,
    UnreachableError,
)

__all__ = [
    "EXTRA_CA_ENV",
    "HttpResponse",
    "HttpTransport",
    "Transport",
    "require_https",
    "tls_context",
]

EXTRA_CA_ENV: Final = "TRICKLE_EXTRA_CA_FILE"
DEFAULT_TIMEOUT: Final = 10.0
MAX_BODY: Final = 1_000_000  # an Open Payments answer is a few kB; refuse to buffer more


class Transport(Protocol):
    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        once: bool = False,
    ) -> HttpResponse:
        """One request. ``once``: never send it a second time (a request that must not be
        applied twice, such as creating an outgoing payment)."""
        ...


def require_https(url: object, what: str = "URL") -> str:
    """``url`` if it is an absolute ``https:`` URL with a host.

    Raises:
        InsecureUrlError: anything else (``http:``, relative, no host, not a string).
    """
    if not isinstance(url, str):
        raise InsecureUrlError(f"the {what} is not a string")
    try:
        parts = urlsplit(url)
        port_ok = parts.port is None or parts.port > 0
    except ValueError as e:
        raise InsecureUrlError(f"the {what} {url!r} is not a valid URL") from e
    if parts.scheme != "https" or not parts.hostname or not port_ok:
        raise InsecureUrlError(f"the {what} {url!r} is not an https: URL", url=url)
    if parts.username is not None or parts.password is not None:
        raise InsecureUrlError(f"the {what} must not carry a user name or password", url=url)
    return url


def tls_context(extra_ca_file: str | Path | None = None) -> ssl.SSLContext:
    """The system trust store, plus ``extra_ca_file`` (or ``$TRICKLE_EXTRA_CA_FILE``) if set.

    Raises:
        TlsError: the extra CA file cannot be read or holds no certificate.
    """
    path = extra_ca_file or os.environ.get(EXTRA_CA_ENV) or None
    try:
        return system_tls_context(path)
    except (OSError, ssl.SSLError) as e:
        raise TlsError(f"cannot load the extra CA file {path}: {type(e).__name__}") from e


class HttpTransport:
    """HTTPS requests over one :class:`~wallet.net.http.HttpSession` (opened lazily, closed by
    ``close``); a request that must never be sent twice over a session of its own."""

    def __init__(
        self,
        *,
        extra_ca_file: str | Path | None = None,
        timeout: float = DEFAULT_TIMEOUT,
        max_body: int = MAX_BODY,
    ) -> None:
        self._ssl = tls_context(extra_ca_file)
        self._timeout = timeout
        self._max_body = max_body
        self._session: HttpSession | None = None

    async def request(
        self,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
        *,
        once: bool = False,
    ) -> HttpResponse:
        """One request. With ``once`` it goes out on a connection of its own: the HTTP client
        re-sends a request, once, when a *reused* connection closes before any answer, on the
        belief that the server did not act on it; a wallet that created an outgoing payment and
        then lost the connection would be paid twice. On a fresh connection nothing is re-sent.
        """
        require_https(url)
        if once:
            one_off = self._new_session()
            try:
                return await self._send(one_off, method, url, headers, body)
            finally:
                await one_off.close()
        if self._session is None:
            self._session = self._new_session()
        return await self._send(self._session, method, url, headers, body)

    def _new_session(self) -> HttpSession:
        return HttpSession(ssl_context=self._ssl, timeout=self._timeout, max_body=self._max_body)

    async def _send(
        self,
        session: HttpSession,
        method: str,
        url: str,
        headers: Mapping[str, str],
        body: bytes | None,
    ) -> HttpResponse:
        try:
            return await session.request(method, url, headers, body or b"")
        except net.RequestTimeoutError as e:
            raise RequestTimeoutError(
                f"{url} did not answer in {self._timeout:g} s", url=url
            ) from e
        except net.TlsError as e:
            raise TlsError(f"TLS with {url} failed: {e}", url=url) from e
        except net.ResponseTooLargeError as e:
            raise OpenPaymentsError(
                f"{url} answered more than {self._max_body} bytes", url=url
            ) from e
        except net.HttpRequestError as e:
            raise OpenPaymentsError(f"the request to {url} cannot be sent: {e}", url=url) from e
        except net.ConnectError as e:
            raise NotSentError(f"cannot connect to {url}: {type(e).__name__}", url=url) from e
        except net.TransportError as e:
            raise UnreachableError(f"cannot reach {url}: {type(e).__name__}", url=url) from e

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None
