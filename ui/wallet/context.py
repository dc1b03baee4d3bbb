"""What the wallet UI is built from: one bundle, made by the composition root and passed in.

Invariant: widgets reach the core only through ``service`` (and the read-only ``history``
reader); they learn about changes only from ``events``. Time comes from ``clock`` and the
user's time zone from ``tz``, so tests drive both.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol
from zoneinfo import ZoneInfo

from PySide6.QtCore import QLocale

from ui.wallet.funding import FundingPort
from ui.wallet.indicator_state import IndicatorState
from ui.wallet.network import NetworkStatus
from ui.wallet.qtevents import QtWalletEvents
from wallet.accounts import holds_balance_here
from wallet.amounts import NumberStyle, format_amount
from wallet.budgets import Asset
from wallet.payments.tips import TipResult
from wallet.reports import HistoryReader
from wallet.secrets import SecretStore
from wallet.service import WalletService

TipSender = Callable[[str, int, Asset], "concurrent.futures.Future[TipResult]"]
"""Sends a tip of ``amount`` ``asset`` to a site's page (``Payments.tip`` on the wallet loop)."""

NO_ACCOUNT = "No account yet"
HELD_AT_CONNECTOR = "Held at your connector"
HELD_AT_WALLET = "Held at your wallet"

# The built-in provider (issue "The built-in provider and the sandbox") registers under these.
BUILTIN_PROVIDER_ORIGIN = "trickle://wallet"
BUILTIN_PROVIDER_NAME = "Trickle wallet"
BUILTIN_HANDLER_URI = "trickle://wallet/handler"


def number_style(locale: QLocale | None = None) -> NumberStyle:
    """The user's decimal point, group separator and group sizes, from Qt's locale (CLDR)."""
    loc = locale or QLocale()
    decimal = loc.decimalPoint() or "."
    group = loc.groupSeparator() or ("," if decimal != "," else ".")
    if group == decimal:
        group = "" if decimal != "," else "."
    try:
        return NumberStyle(decimal=decimal, group=group, grouping=_grouping(loc, group))
    except ValueError:
        return NumberStyle()


def _grouping(loc: QLocale, group: str) -> tuple[int, int]:
    """Group sizes as ``loc`` writes 123456789: (3, 3) for 123,456,789, (3, 2) for 12,34,56,789."""
    sizes = [len(g) for g in loc.toString(123456789).split(group)] if group else []
    if len(sizes) < 3 or not all(s.isdigit() for s in loc.toString(123456789).split(group)):
        return (3, 3)
    return (sizes[-1], sizes[-2])


class AccountInfo(Protocol):
    """What the views read of an account row (``WalletService.account``)."""

    @property
    def network(self) -> str: ...

    @property
    def address(self) -> str: ...

    @property
    def asset(self) -> Asset: ...

    @property
    def balance(self) -> int: ...


@dataclass(frozen=True)
class SandboxWallet:
    """The sandbox's own Open Payments wallet (play money), to connect as the user's own."""

    address: str
    key_page: str  # where its owner adds Trickle's key


@dataclass
class WalletContext:
    """The wallet UI's dependencies.

    Attributes:
        service: the one door into the wallet core.
        history: read-only history queries (its own engine on the same database).
        events: the service's events as Qt signals.
        network: the network (sandbox / uplink) and its status, fed by the provider.
        secrets: where the uplink token goes (the OS keyring in the app).
        tz: the user's time zone.
        clock: now (aware); injected in tests.
        style: how numbers are written in the user's locale.
        funding: the funding sources (the connected Open Payments wallet), when the network
            side is wired (``ui.provider``).
        tips: sends a tip to the page of a site (``None``: no payment layer, no tips).
        statuses: every site's state (:mod:`wallet.site_state`) with the browser's facts;
            ``WalletUi`` sets it (a wallet window alone shows sites as not open).
        sandbox_wallet: the running sandbox's wallet for the user, offered on the Account page
            (its address changes every run); set before ``network`` says the sandbox runs.
    """

    service: WalletService
    history: HistoryReader
    events: QtWalletEvents
    network: NetworkStatus
    secrets: SecretStore | None
    tz: ZoneInfo
    clock: Callable[[], datetime]
    style: NumberStyle = field(default_factory=number_style)
    funding: FundingPort | None = None
    tips: TipSender | None = None
    statuses: IndicatorState | None = None
    sandbox_wallet: SandboxWallet | None = None

    def site_states(self) -> IndicatorState:
        """Every site's state: the app's (with its tabs), or one without tabs made on first use."""
        if self.statuses is None:
            self.statuses = IndicatorState(
                self.service,
                tz=self.tz,
                clock=self.clock,
                network=lambda: self.network.account,
                style=self.style,
                wallet_pays=self.wallet_pays,
            )
        return self.statuses

    def account(self) -> AccountInfo | None:
        """The account that pays now: the sandbox's, or the uplink's (``network.account``)."""
        return self.service.account(self.network.account) if self.network.account else None

    def balance_words(self, account: AccountInfo | None, *, max_digits: int | None = 6) -> str:
        """The balance of ``account`` (:meth:`account`) for people: the sandbox's in money; an
        uplink's is held at the connector, which Trickle does not see."""
        if account is None:
            return NO_ACCOUNT
        if not holds_balance_here(account.network):
            return HELD_AT_CONNECTOR
        return self.money(account.balance, account.asset, max_digits=max_digits)

    def balance_words_for(self, site: str) -> str:
        """The balance of what pays ``site``: the connected Open Payments wallet's (held there:
        its grant's budget is what Trickle sees), else the active account's."""
        if self.wallet_pays(site):
            return HELD_AT_WALLET
        return self.balance_words(self.account())

    def wallet_pays(self, site: str) -> bool:
        """Whether the user's connected Open Payments wallet pays ``site``'s links: then the
        site has a provider in every view, whatever the ILP provider."""
        return self.funding is not None and self.funding.pays_links_of(site)

    def money(self, amount: int, asset: Asset, *, max_digits: int | None = 6) -> str:
        """``amount`` of ``asset`` in the user's locale."""
        return format_amount(amount, asset, style=self.style, max_digits=max_digits)

    def money_map(self, amounts: dict[Asset, int], *, empty_asset: Asset | None = None) -> str:
        """Several assets' amounts ("1.20 USD · 3.00 EUR"); zero of ``empty_asset`` if none."""
        if not amounts:
            return self.money(0, empty_asset) if empty_asset is not None else "—"
        return " · ".join(self.money(v, a) for a, v in sorted(amounts.items(), key=_asset_key))


def _asset_key(item: tuple[Asset, int]) -> tuple[str, int]:
    return item[0].code, item[0].scale
