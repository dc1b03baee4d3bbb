"""The welcome page (``trickle://wallet/``) with the user's own figures filled in by Trickle.

``resources/pages/wallet/index.html`` is a template; this page serves it with ``${budget}`` set
from the wallet — the global monthly budget a new profile starts with (5 USD), or whatever it
is now. A value of that name in the URL's query is replaced, never shown: a link cannot make
the page state a budget that is not the user's.
"""

from __future__ import annotations

from PySide6.QtCore import QUrl, QUrlQuery

from ui.browser.scheme import InternalPage, Reply
from ui.wallet.context import number_style
from wallet.amounts import format_amount
from wallet.service import WalletService

TRUSTED_KEYS = ("budget",)


class WelcomePage:
    """An :class:`InternalPage` over the welcome page's directory, adding the wallet's figures."""

    def __init__(self, pages: InternalPage, service: WalletService) -> None:
        self._pages = pages
        self._service = service

    def budget_text(self) -> str:
        glob = self._service.global_policy()
        if glob.monthly_budget is None:
            return "no monthly budget: sites are held only by their own rates and caps"
        amount = format_amount(glob.monthly_budget, glob.budget_asset, style=number_style())
        return f"a monthly budget of {amount} for all sites together"

    def respond(self, url: QUrl) -> Reply | None:
        query = QUrlQuery(url)
        for key in TRUSTED_KEYS:
            query.removeAllQueryItems(key)
        query.addQueryItem("budget", self.budget_text())
        trusted = QUrl(url)
        trusted.setQuery(query)
        return self._pages.respond(trusted)
