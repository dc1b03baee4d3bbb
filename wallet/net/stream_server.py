"""A STREAM server (receiver) over a link, with per-connection credentials for SPSP.

Every :meth:`StreamServer.credentials` call issues a fresh ``destination_account`` +
``shared_secret`` (:func:`wallet.stream.generate_credentials`); the first Prepare for such an
address creates the server-side connection. Addresses this server did not issue are answered
``F02`` with empty message and data, as the JS server does (WIRE-NOTES §6.9).
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Callable
from dataclasses import replace

from wallet.ilp import ErrorCode, Fulfill, Prepare, Reject
from wallet.net.link import Link
from wallet.net.router import Router
from wallet.net.spsp import ReceiptRequest
from wallet.net.stream_api import IlpConnection
from wallet.net.stream_driver import StreamDriver, run_connection
from wallet.stream import (
    ConnectionConfig,
    Role,
    ServerCredentials,
    generate_credentials,
    lookup_credentials,
)

__all__ = ["StreamServer"]

_U64_MAX = 2**64 - 1


class StreamServer:
    """Accepts STREAM connections at addresses under ``base_address``.

    ``on_connection`` is called with each new :class:`IlpConnection` (before its first
    Prepare is answered, so listeners miss nothing). By default streams accept any amount
    (``receive_max`` 2^64-1), as a web-monetized site's receiver does.
    """

    def __init__(
        self,
        link: Link,
        *,
        base_address: str,
        asset_code: str,
        asset_scale: int,
        on_connection: Callable[[IlpConnection], None] | None = None,
        router: Router | None = None,
        server_secret: bytes | None = None,
        config: ConnectionConfig | None = None,
    ) -> None:
        self.link = link
        self.base_address = base_address
        self.asset_code = asset_code
        self.asset_scale = asset_scale
        self._secret = server_secret or os.urandom(32)
        self._template = config or ConnectionConfig(
            shared_secret=bytes(32),
            asset_code=asset_code,
            asset_scale=asset_scale,
            default_receive_max=_U64_MAX,
        )
        self._template = replace(self._template, asset_code=asset_code, asset_scale=asset_scale)
        self.on_connection = on_connection
        self._connections: dict[str, tuple[IlpConnection, StreamDriver]] = {}
        self.router = router or Router(link, own_address=base_address)
        self.router.add(base_address, self.handle)

    @property
    def connections(self) -> list[IlpConnection]:
        return [api for api, _ in self._connections.values()]

    def credentials(
        self, *, connection_tag: str | None = None, receipt: ReceiptRequest | None = None
    ) -> ServerCredentials:
        """Fresh credentials for one client (hand them out over SPSP)."""
        return generate_credentials(
            self._secret,
            self.base_address,
            os.urandom,
            connection_tag=connection_tag,
            receipt_nonce=receipt.nonce if receipt else None,
            receipt_secret=receipt.secret if receipt else None,
        )

    def spsp_credentials(self, receipt: ReceiptRequest | None) -> tuple[str, bytes]:
        """A :data:`~wallet.net.spsp.CredentialFactory` for :func:`wallet.net.spsp.spsp_app`."""
        issued = self.credentials(receipt=receipt)
        return issued.destination_account, issued.shared_secret

    async def handle(self, prepare: Prepare) -> Fulfill | Reject:
        # The connection's address is the base plus the token segment.
        rest = prepare.destination[len(self.base_address) + 1 :]
        key = f"{self.base_address}.{rest.split('.', 1)[0]}"
        entry = self._connections.get(key)
        if entry is None:
            issued = lookup_credentials(self._secret, self.base_address, prepare.destination)
            if issued is None:
                return Reject(ErrorCode.F02_UNREACHABLE, "", "", b"")
            entry = self._accept(key, issued)
        return entry[1].handle_prepare(prepare)

    def _accept(self, key: str, issued: ServerCredentials) -> tuple[IlpConnection, StreamDriver]:
        config = replace(
            self._template,
            shared_secret=issued.shared_secret,
            source_account=key,
            destination_account=None,
            connection_tag=issued.connection_tag,
            receipt_nonce=issued.receipt_nonce,
            receipt_secret=issued.receipt_secret,
        )
        api, driver = run_connection(config, Role.SERVER, self.link)
        self._connections[key] = (api, driver)
        driver.done.add_done_callback(lambda _: self._connections.pop(key, None))
        if self.on_connection is not None:
            self.on_connection(api)
        driver.start()
        return api, driver

    async def aclose(self) -> None:
        """Close every connection gracefully."""
        drivers = [driver for _, driver in self._connections.values()]
        for driver in drivers:
            driver.abort()
        await asyncio.gather(*(driver.done for driver in drivers), return_exceptions=True)
        self.router.remove(self.base_address)
