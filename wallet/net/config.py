"""Uplink settings: plain values (transport, URL, account name) plus a token from a secret store.

Invariants: :class:`UplinkSettings` holds no secret — it may be stored in SQLite, logged and
shown; the token is looked up in a :class:`~wallet.secrets.SecretStore` under
``uplink-token:<profile>`` only when an uplink is built, and lives on in a
:class:`~wallet.secrets.Secret` (whose ``repr`` hides it). A URL with a password in it is
refused by the settings; :func:`split_credentials` is the one place that takes such a URL apart,
for command lines that accept ``btp+ws://user:token@host``.
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol
from urllib.parse import unquote, urlsplit, urlunsplit

from wallet.ilp import IldcpResponse
from wallet.net.btp_uplink import BtpUplink, websocket_url
from wallet.net.errors import UplinkConfigError, UplinkError
from wallet.net.http_uplink import HttpUplink
from wallet.net.ildcp import fetch_account_config
from wallet.net.link import Link
from wallet.net.origin import tls_context
from wallet.net.uplink_base import check_no_credentials, display_url
from wallet.secrets import Secret, SecretStore, uplink_token_name


class Uplink(Link, Protocol):
    """A :class:`~wallet.net.link.Link` to an upstream connector: what both uplinks offer."""

    display_url: str
    own_address: str
    last_error: UplinkError | None

    async def connect(self) -> None:
        """Get ready to send (BTP: connect and authenticate; HTTP: pool and server)."""
        ...


class Transport(StrEnum):
    HTTP = "http"
    BTP = "btp"


@dataclass(frozen=True, slots=True)
class UplinkSettings:
    """How to reach the upstream connector. No secrets here.

    Attributes:
        transport: ILP-over-HTTP or BTP.
        url: ``https://…`` (HTTP) or ``btp+wss://…`` (BTP), without credentials.
        account: BTP ``auth_username`` / the ``ILP-Peer-Name`` sent over HTTP (may be empty).
        profile_id: names the token in the secret store (``uplink-token:<profile_id>``).
        listen_port: HTTP only: the port of our server for incoming packets (0: any free one,
            ``None``: no server).
        async_mode: HTTP only: ask for RFC 35 async replies.
        ca_file: a PEM file of certificates to trust besides the system's (e.g. a self-hosted
            connector's own CA); ``None``: the system's only.
    """

    transport: Transport
    url: str
    account: str = ""
    profile_id: str = "default"
    listen_port: int | None = 0
    async_mode: bool = False
    ca_file: str | None = None

    def __post_init__(self) -> None:
        check_no_credentials(self.url)
        scheme = urlsplit(self.url).scheme.lower()
        if self.transport is Transport.HTTP and scheme not in ("http", "https"):
            raise UplinkConfigError(display_url(self.url), "ILP-over-HTTP needs an https:// URL")
        if self.transport is Transport.BTP:
            websocket_url(self.url)

    @property
    def token_name(self) -> str:
        return uplink_token_name(self.profile_id)

    @classmethod
    def from_url(cls, url: str, **kwargs: object) -> UplinkSettings:
        """Settings for ``url``, with the transport taken from its scheme.

        Raises:
            UplinkConfigError: an unknown scheme or credentials in the URL.
        """
        scheme = urlsplit(url).scheme.lower()
        if scheme in ("http", "https"):
            transport = Transport.HTTP
        elif scheme in ("btp+ws", "btp+wss", "ws", "wss"):
            transport = Transport.BTP
        else:
            raise UplinkConfigError(display_url(url), "use an https:// or btp+wss:// URL")
        return cls(transport, url, **kwargs)  # type: ignore[arg-type]


def split_credentials(url: str) -> tuple[str, str, Secret | None]:
    """``btp+ws://user:token@host/p`` -> (``btp+ws://host/p``, ``user``, ``Secret(token)``).

    The token (and user) are percent-decoded; a URL without them comes back unchanged.
    """
    parts = urlsplit(url)
    if not parts.username and not parts.password:
        return url, "", None
    host = parts.hostname or ""
    if ":" in host:
        host = f"[{host}]"
    netloc = f"{host}:{parts.port}" if parts.port else host
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    token = Secret(unquote(parts.password)) if parts.password else None
    return clean, unquote(parts.username or ""), token


def load_token(settings: UplinkSettings, store: SecretStore) -> Secret:
    """The uplink token for ``settings`` from ``store``.

    Raises:
        UplinkConfigError: no token is stored.
        SecretStoreError: the store failed.
    """
    token = store.get(settings.token_name)
    if token is None:
        raise UplinkConfigError(
            display_url(settings.url), f"no token stored under {settings.token_name!r}"
        )
    return token


def build_uplink(settings: UplinkSettings, store: SecretStore, **options: object) -> Uplink:
    """An (unconnected) uplink for ``settings`` with its token from ``store``.

    ``options`` go to the uplink's constructor (clock, timeouts, TLS context, ...).

    Raises:
        UplinkConfigError: bad settings, no token, or an unreadable ``ca_file``.
        SecretStoreError: the store failed.
    """
    token = load_token(settings, store)
    if settings.ca_file is not None and "ssl_context" not in options:
        try:
            options["ssl_context"] = tls_context(settings.ca_file)
        except (OSError, ssl.SSLError):
            raise UplinkConfigError(
                display_url(settings.url), "the extra CA file cannot be read"
            ) from None
    if settings.transport is Transport.HTTP:
        return HttpUplink(
            settings.url,
            token,
            listen_port=settings.listen_port,
            async_mode=settings.async_mode,
            peer_name=settings.account or None,
            **options,  # type: ignore[arg-type]
        )
    return BtpUplink(settings.url, token, username=settings.account, **options)  # type: ignore[arg-type]


async def open_uplink(
    settings: UplinkSettings, store: SecretStore, **options: object
) -> tuple[Uplink, IldcpResponse]:
    """Build, connect, and learn who we are with IL-DCP; ``own_address`` is set on return.

    Raises:
        UplinkAuthError, UplinkUnreachableError, UplinkTlsError, AccountConfigError, ...:
            whatever stopped it (the uplink is closed again first).
        UplinkConfigError: bad settings or no token.
    """
    uplink = build_uplink(settings, store, **options)
    try:
        await uplink.connect()
        account = await fetch_account_config(uplink)
    except BaseException:
        await uplink.close()
        raise
    uplink.own_address = account.client_address
    return uplink, account
