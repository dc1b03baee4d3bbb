"""Open a STREAM connection as a client over a link: ``await connect(...)``.

The connection gets its own receiving address under the account's (``<account>.<random>``) so
that the receiver's Prepares — rate probes, data, money (WIRE-NOTES §6.8) — find it through the
shared :class:`~wallet.net.router.Router`.
"""

from __future__ import annotations

import base64
import os
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from wallet.net.link import Link
from wallet.net.router import Router
from wallet.net.stream_api import IlpConnection
from wallet.net.stream_driver import StreamDriver, run_connection
from wallet.stream import BudgetGate, ConnectionConfig, Role

__all__ = ["connect", "open_connection"]


def _connection_segment() -> str:
    return base64.urlsafe_b64encode(os.urandom(12)).rstrip(b"=").decode("ascii")


def open_connection(
    link: Link,
    config: ConnectionConfig,
    *,
    router: Router | None = None,
    budget: BudgetGate | None = None,
    monotonic: Callable[[], float] | None = None,
    wallclock: Callable[[], datetime] | None = None,
) -> tuple[IlpConnection, StreamDriver]:
    """Create a client connection and start its pump (without waiting for the probe).

    With a ``router`` and a ``source_account`` in ``config``, the connection receives at
    ``source_account.<random>``.
    """
    if router is not None and config.source_account:
        config = replace(config, source_account=f"{config.source_account}.{_connection_segment()}")
    elif router is None:
        config = replace(config, source_account=None)
    api, driver = run_connection(
        config,
        Role.CLIENT,
        link,
        budget=budget,
        monotonic=monotonic,
        wallclock=wallclock,
    )
    if router is not None and config.source_account:
        address = config.source_account
        router.add(address, driver.handle_prepare_async)
        driver.done.add_done_callback(lambda _: router.remove(address))
    driver.start()
    return api, driver


async def connect(
    link: Link,
    config: ConnectionConfig,
    *,
    router: Router | None = None,
    budget: BudgetGate | None = None,
) -> IlpConnection:
    """Open a connection and wait until the exchange-rate probe is done.

    Raises:
        StreamError: the connection failed (no route, rate too low, ...).
        ConnectionClosedError: it closed before connecting.
    """
    api, _ = open_connection(link, config, router=router, budget=budget)
    await api.connected
    return api
