r"""Where a URL's requests go and how a connection there is opened: origins, TLS, connecting.

Shared by the HTTP connection pool (:mod:`wallet.net.http_client`) and the WebSocket client
(:mod:`wallet.net.websocket`). Failures are :class:`~wallet.net.errors.TransportError`\s that
name the exception's type only (never the host or URL).
"""

from __future__ import annotations

import asyncio
import os
import ssl
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final, TypeVar
from urllib.parse import urlsplit

from wallet.net.errors import ConnectError, TlsError

__all__ = ["Origin", "context_for", "open_connection", "parse_origin", "tls_context"]


@dataclass(frozen=True, slots=True)
class Origin:
    """Where a URL's requests go: host and port to connect to, the ``Host`` header's value,
    the request target (path and query) and whether the connection is TLS."""

    host: str
    port: int
    authority: str
    target: str
    tls: bool

    @property
    def key(self) -> tuple[bool, str, int]:
        """What makes two URLs the same origin (RFC 6454: scheme, host, port)."""
        return self.tls, self.host.lower(), self.port


# Scheme -> (default port, TLS).
_SCHEMES: Final = {"http": (80, False), "https": (443, True), "ws": (80, False), "wss": (443, True)}


def parse_origin(url: str, schemes: tuple[str, ...] = ("http", "https")) -> Origin:
    """The :class:`Origin` of ``url``, whose scheme must be one of ``schemes``.

    Raises:
        ValueError: another scheme, or no host.
    """
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in schemes or scheme not in _SCHEMES or not parts.hostname:
        raise ValueError(f"a {' or '.join(s + '://' for s in schemes)} URL with a host is needed")
    default_port, tls = _SCHEMES[scheme]
    host = parts.hostname
    port = parts.port or default_port
    shown = f"[{host}]" if ":" in host else host
    return Origin(
        host=host,
        port=port,
        authority=shown if port == default_port else f"{shown}:{port}",
        target=(parts.path or "/") + (f"?{parts.query}" if parts.query else ""),
        tls=tls,
    )


def tls_context(extra_ca: str | os.PathLike[str] | None = None) -> ssl.SSLContext:
    """A client TLS context: the system's trusted certificates, plus those in ``extra_ca``
    (a PEM file, e.g. a self-hosted wallet's or connector's own CA). Host names are checked.

    Raises:
        FileNotFoundError: ``extra_ca`` does not exist.
        ssl.SSLError: ``extra_ca`` holds no certificate ssl can read.
    """
    context = ssl.create_default_context()
    if extra_ca is not None:
        context.load_verify_locations(cafile=os.fspath(extra_ca))
    return context


def context_for(origin: Origin, context: ssl.SSLContext | None) -> ssl.SSLContext | None:
    """The TLS context to connect to ``origin`` with: ``context``, or :func:`tls_context`;
    ``None`` for a plain connection."""
    if not origin.tls:
        return None
    return context or tls_context()


_P = TypeVar("_P", bound=asyncio.BaseProtocol)


async def open_connection(
    factory: Callable[[], _P], origin: Origin, context: ssl.SSLContext | None
) -> _P:
    """A connection to ``origin`` (TLS with ``context`` if it is not ``None``), its protocol
    made by ``factory``.

    Raises:
        TlsError: the TLS handshake failed.
        ConnectError: no connection (refused, unknown host, unreachable).
    """
    try:
        _, protocol = await asyncio.get_running_loop().create_connection(
            factory,
            origin.host,
            origin.port,
            ssl=context,
            server_hostname=origin.host if context is not None else None,
        )
    except ssl.SSLError as e:
        raise TlsError(type(e).__name__) from e
    except OSError as e:
        raise ConnectError(type(e).__name__) from e
    return protocol
