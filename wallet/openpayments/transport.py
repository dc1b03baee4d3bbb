"""The Open Payments client's only I/O: one HTTPS request, answered as ``(status, headers, body)``.

Kept to one small class (:class:`AiohttpTransport`) with one method so the shared HTTP client
module can replace it without touching the protocol code: anything with
``async request(method, url, headers, body) -> HttpResponse`` will do (:class:`Transport`).

Trust: the system trust store plus, optionally, one extra CA file (PEM) — what corporate and
test networks need. It comes from the ``extra_ca_file`` argument or the ``TRICKLE_EXTRA_CA_FILE``
environment variable. ``https:`` only: there is no ``http:`` special case, not even for
loopback; tests put a TLS front with their own CA before local servers. Redirects are not
followed (a signed request is bound to its URL). Failures become the named errors of
:mod:`wallet.openpayments.errors`; aiohttp and ssl exceptions never leave this module.
"""

from __future__ import annotations

import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Final, Protocol
from urllib.parse import urlsplit

import aiohttp

from wallet.openpayments.errors import (
    InsecureUrlError,
    OpenPaymentsError,
    RequestTimeoutError,
    TlsError,
    UnreachableError,
)

__all__ = [
    "EXTRA_CA_ENV",
    "AiohttpTransport",
    "HttpResponse",
    "Transport",
    "require_https",
    "tls_context",
]

EXTRA_CA_ENV: Final = "TRICKLE_EXTRA_CA_FILE"
DEFAULT_TIMEOUT: Final = 10.0
MAX_BODY: Final = 1_000_000  # an Open Payments answer is a few kB; refuse to buffer more


@dataclass(frozen=True)
class HttpResponse:
    status: int
    headers: Mapping[str, str] = field(repr=False)
    body: bytes = field(repr=False)

    @property
    def content_type(self) -> str:
        for name, value in self.headers.items():
            if name.lower() == "content-type":
                return value.split(";", 1)[0].strip().lower()
        return ""


class Transport(Protocol):
    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpResponse: ...


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
    context = ssl.create_default_context()
    path = extra_ca_file or os.environ.get(EXTRA_CA_ENV) or None
    if path:
        try:
            context.load_verify_locations(cafile=str(path))
        except (OSError, ssl.SSLError) as e:
            raise TlsError(f"cannot load the extra CA file {path}: {type(e).__name__}") from e
    return context


class AiohttpTransport:
    """HTTPS requests over one ``aiohttp.ClientSession`` (opened lazily, closed by ``close``)."""

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
        self._session: aiohttp.ClientSession | None = None

    async def request(
        self, method: str, url: str, headers: Mapping[str, str], body: bytes | None
    ) -> HttpResponse:
        require_https(url)
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(ssl=self._ssl),
                timeout=aiohttp.ClientTimeout(total=self._timeout),
                auto_decompress=True,
            )
        try:
            async with self._session.request(
                method, url, headers=dict(headers), data=body, allow_redirects=False
            ) as response:
                data = await response.content.read(self._max_body + 1)
                if len(data) > self._max_body:
                    raise OpenPaymentsError(
                        f"{url} answered more than {self._max_body} bytes", url=url
                    )
                return HttpResponse(response.status, dict(response.headers), data)
        except TimeoutError as e:
            raise RequestTimeoutError(
                f"{url} did not answer in {self._timeout:g} s", url=url
            ) from e
        except aiohttp.ClientSSLError as e:
            raise TlsError(f"TLS with {url} failed: {_reason(e)}", url=url) from e
        except aiohttp.ClientError as e:
            raise UnreachableError(f"cannot reach {url}: {type(e).__name__}", url=url) from e

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None


def _reason(e: aiohttp.ClientSSLError) -> str:
    inner = getattr(e, "certificate_error", None) or getattr(e, "os_error", None)
    return getattr(inner, "reason", None) or type(e).__name__
