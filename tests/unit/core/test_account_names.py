"""Each network's account row has one name, the same whoever asks: the runtime that starts the
uplink and every view that looks the active account up (``wallet.accounts``). An uplink's name
is its connector's URL as its own link shows it (without credentials, query or fragment), for
both transports; only the sandbox's balance is held by the wallet."""

from __future__ import annotations

import pytest

from wallet.accounts import SANDBOX_NETWORK, account_network, holds_balance_here
from wallet.net.btp_uplink import BtpUplink
from wallet.net.config import Transport, UplinkSettings
from wallet.net.http_uplink import HttpUplink
from wallet.secrets import Secret


@pytest.mark.parametrize(
    "url",
    [
        "https://connector.example/ilp",
        "https://connector.example:8443/ilp?account=me#x",
        "https://[::1]:7770/",
        "btp+wss://connector.example/btp",
        "btp+ws://127.0.0.1:7768",
        "wss://connector.example:443/path?x=1",
    ],
)
def test_an_uplinks_account_is_named_as_its_link_shows_itself(url: str) -> None:
    settings = UplinkSettings.from_url(url)
    link = (
        HttpUplink(settings.url, Secret("token"))
        if settings.transport is Transport.HTTP
        else BtpUplink(settings.url, Secret("token"))
    )
    assert account_network(settings) == f"uplink:{link.display_url}"
    assert not holds_balance_here(account_network(settings))


def test_the_sandbox_has_its_own_account_and_holds_its_balance() -> None:
    assert account_network(None) == SANDBOX_NETWORK == "sandbox"
    assert holds_balance_here(SANDBOX_NETWORK)
    assert account_network(UplinkSettings.from_url("btp+ws://h/")) == "uplink:ws://h/"
