"""Fixtures for interop tests: real npm Interledger peers on 127.0.0.1 (see harness.py).

``network`` (one per module) is an ilp-connector at ``test.harness`` with:

* ``wallet``       — child over ILP-over-HTTP; it POSTs to our server on ``network.wallet_port``
* ``walletbtp``    — child over BTP (single-account listener)
* ``receiver``     — a second child over HTTP that *we* serve (our server on
  ``network.receiver_port``)
* ``receiverbtp``  — a second child over BTP that we serve
* ``sink``         — an in-process peer that fulfills everything with 32 zero bytes

The wallet accounts have ``maxPacketAmount`` 1 000 000, all are USD/9 and rates are 1:1.
``connector_factory`` starts connectors with any config (fault tests kill and restart them).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Coroutine, Iterator
from dataclasses import dataclass
from typing import Any, TypeVar

import pytest

from tests.interop.harness import Connector, free_port
from wallet.net.btp_uplink import BtpUplink
from wallet.net.http_uplink import HttpUplink
from wallet.secrets import Secret

T = TypeVar("T")

TOKENS = {
    "wallet": "wallet-http-secret",
    "walletbtp": "wallet-btp-secret",
    "receiver": "receiver-http-secret",
    "receiverbtp": "receiver-btp-secret",
}
MAX_PACKET = 1_000_000


def network_config(wallet_port: int, receiver_port: int) -> dict[str, Any]:
    return {
        "address": "test.harness",
        "accounts": {
            "wallet": {
                "transport": "http",
                "token": TOKENS["wallet"],
                "outgoingUrl": f"http://127.0.0.1:{wallet_port}/ilp",
                "maxPacketAmount": MAX_PACKET,
            },
            "walletbtp": {
                "transport": "btp",
                "token": TOKENS["walletbtp"],
                "maxPacketAmount": MAX_PACKET,
            },
            "receiver": {
                "transport": "http",
                "token": TOKENS["receiver"],
                "outgoingUrl": f"http://127.0.0.1:{receiver_port}/ilp",
            },
            "receiverbtp": {"transport": "btp", "token": TOKENS["receiverbtp"]},
            "sink": {"transport": "local"},
        },
    }


@dataclass
class Network:
    connector: Connector
    wallet_port: int
    receiver_port: int

    @property
    def address(self) -> str:
        return self.connector.address

    def uplink(
        self, transport: str, role: str = "wallet", **options: Any
    ) -> HttpUplink | BtpUplink:
        """An unconnected uplink to the ``wallet``/``receiver`` account over ``transport``."""
        return make_uplink(self, transport, role, **options)


def account_name(transport: str, role: str) -> str:
    return role if transport == "http" else role + "btp"


def make_uplink(
    net: Network, transport: str, role: str = "wallet", token: str | None = None, **options: Any
) -> HttpUplink | BtpUplink:
    name = account_name(transport, role)
    secret = Secret(token or TOKENS[name])
    url = net.connector.url(name)
    if transport == "http":
        port = net.wallet_port if role == "wallet" else net.receiver_port
        return HttpUplink(url, secret, listen_port=port, **options)
    options.setdefault("backoff_cap", 0.5)
    return BtpUplink(url, secret, **options)


@pytest.fixture(scope="module")
def network() -> Iterator[Network]:
    wallet_port, receiver_port = free_port(), free_port()
    with Connector.start(network_config(wallet_port, receiver_port)) as connector:
        yield Network(connector, wallet_port, receiver_port)


@pytest.fixture
def connector_factory() -> Iterator[Callable[[dict[str, Any]], Connector]]:
    started: list[Connector] = []

    def start(config: dict[str, Any]) -> Connector:
        connector = Connector(config)
        started.append(connector)
        connector.launch()
        return connector

    yield start
    for connector in started:
        connector.stop()


@pytest.fixture
def fresh_network(
    connector_factory: Callable[[dict[str, Any]], Connector],
) -> Network:
    """A network of its own (for tests that kill the connector)."""
    wallet_port, receiver_port = free_port(), free_port()
    connector = connector_factory(network_config(wallet_port, receiver_port))
    return Network(connector, wallet_port, receiver_port)


def run(coro: Coroutine[Any, Any, T], timeout: float = 60.0) -> T:
    """Run one test coroutine on a fresh event loop, with an overall timeout."""

    async def bounded() -> T:
        async with asyncio.timeout(timeout):
            return await coro

    return asyncio.run(bounded())
