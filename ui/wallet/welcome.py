"""The welcome page (``trickle://wallet/``) with the user's own figures filled in by Trickle.

``resources/pages/wallet/index.html`` is a template; this page serves it with ``${budget}`` set
from the wallet — the global monthly budget a new profile starts with (5 USD), or whatever it
is now. A value of that name in the URL's query is replaced, never shown: a link cannot make
the page state a budget that is not the user's.

Its "Change" link (``trickle://wallet/budget``) opens the wallet's Settings at the monthly
budget field, in the browser window the user clicked in, and comes back to the welcome page.
The URL carries no amount: the budget is typed into the wallet's own field (with its guard
rails), never taken from a URL.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QUrl, QUrlQuery
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QApplication, QWidget

from ui.browser.scheme import InternalPage, Reply
from ui.wallet.context import number_style
from wallet.amounts import format_amount
from wallet.service import WalletService

TRUSTED_KEYS = ("budget",)
DEMO_KEYS = ("blog", "echo")  # the demo sites' addresses, which Trickle put in the first URL
CHANGE_BUDGET_PATH = "/budget"
# What ``WalletUi.attach`` names the browser window's "change the monthly budget" action.
BUDGET_ACTION = "wallet_budget_action"


def open_budget_in_active_window() -> bool:
    """Trigger the "change the monthly budget" action of the window the user works in."""
    active = QApplication.activeWindow()
    candidates: list[QWidget] = [active] if active is not None else []
    candidates += [w for w in QApplication.topLevelWidgets() if w is not active]
    for candidate in candidates:
        widget: QWidget | None = candidate
        while widget is not None:
            action = getattr(widget, BUDGET_ACTION, None)
            if isinstance(action, QAction):
                action.trigger()
                return True
            widget = widget.parentWidget()
    return False


class WelcomePage:
    """An :class:`InternalPage` over the welcome page's directory, adding the wallet's figures."""

    def __init__(
        self,
        pages: InternalPage,
        service: WalletService,
        open_budget: Callable[[], bool] = open_budget_in_active_window,
    ) -> None:
        self._pages = pages
        self._service = service
        self._open_budget = open_budget

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
        if url.path() == CHANGE_BUDGET_PATH:
            self._open_budget()
            back, links = QUrl("trickle://wallet/"), QUrlQuery()
            for key in DEMO_KEYS:  # the demo links the page had; nothing else comes back
                if query.hasQueryItem(key):
                    links.addQueryItem(key, query.queryItemValue(key))
            back.setQuery(links)
            return Reply(b"", redirect=back.toString())
        query.addQueryItem("budget", self.budget_text())
        trusted = QUrl(url)
        trusted.setQuery(query)
        return self._pages.respond(trusted)
