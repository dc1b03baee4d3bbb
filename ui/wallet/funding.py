"""The funding sources in the UI: the connected wallet's state for the Account page and the
popover, and the words a page paid from it (or not) gets.

:class:`FundingPort` is the GUI thread's face of :class:`wallet.funding.Funding` (which lives on
the wallet loop): it keeps the latest :class:`~wallet.funding.FundingStatus` (read on the loop
whenever the funding side changes) and runs connect/disconnect there, calling back on the GUI
thread. :class:`FundingNote` is the small label the site popover shows: what is left of the
wallet's budget for Trickle and when it renews, why the wallet does not pay (with "Reconnect"),
or that a draft-4 page needs the local account.

Signals:
    FundingPort.changed(): a new status is in ``status``.
    FundingNote.reconnect_requested(): the user asked to reconnect the wallet.
"""

from __future__ import annotations

from collections.abc import Callable, Container, Coroutine
from typing import Any, TypeVar

from PySide6.QtCore import QObject, Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QWidget

from ui.asyncbridge import AsyncBridge, Outcome
from wallet.amounts import NumberStyle, format_amount
from wallet.funding import Connecting, Funding, FundingSource, FundingStatus

__all__ = ["FundingNote", "FundingPort", "budget_words", "draft4_words"]

T = TypeVar("T")


class FundingPort(QObject):
    """The funding side, for widgets (GUI thread)."""

    changed = Signal()

    def __init__(
        self,
        funding: Funding,
        asyncs: AsyncBridge,
        *,
        open_url: Callable[[str], None] | None = None,
        draft4_sites: Container[str] = (),
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.funding = funding
        self.draft4_sites = draft4_sites
        """Sites whose pages use draft 4 (paid from the local account whatever the source)."""
        self._asyncs = asyncs
        self.open_url = open_url
        """How a consent page is opened in a Trickle tab (set by the composition root)."""
        self.status = FundingStatus(FundingSource.LOCAL, None, None, None, False, None)
        funding.listeners.append(lambda: asyncs.post_to_gui(self.refresh))
        self.refresh()

    def pays_links_of(self, site: str) -> bool:
        """Whether the connected wallet pays ``site``'s link tags now (draft-4 pages are paid
        from the local account whatever the source)."""
        status = self.status
        return (
            status.source is FundingSource.OPEN_PAYMENTS
            and status.wallet is not None
            and status.problem is None
            and site not in self.draft4_sites
        )

    def refresh(self) -> None:
        """Read the status again (on the wallet loop)."""

        async def read() -> FundingStatus:
            wallet = await self.funding.load()
            if wallet is not None and self.funding.paying_wallet() is wallet:
                await wallet.refresh_spent()
            return self.funding.status()

        self._run(read(), self._got)

    def _got(self, status: FundingStatus) -> None:
        self.status = status
        self.changed.emit()

    def begin(self, text: str, done: Callable[[Outcome[Connecting]], None]) -> None:
        self._asyncs.submit(self.funding.begin(text), done)

    def request_grant(
        self, connecting: Connecting, budget: int, done: Callable[[Outcome[str]], None]
    ) -> None:
        self._asyncs.submit(self.funding.request_grant(connecting, budget), done)

    def when_connected(self, connecting: Connecting, done: Callable[[Outcome[Any]], None]) -> None:
        self._asyncs.submit(connecting.outcome(), done)

    def disconnect_wallet(self, done: Callable[[Outcome[str | None]], None]) -> None:
        self._asyncs.submit(self.funding.disconnect(), done)

    def set_source(self, source: FundingSource) -> None:
        async def switch() -> None:
            self.funding.set_source(source)

        self._run(switch(), lambda _: None)

    def _run(self, coro: Coroutine[Any, Any, T], then: Callable[[T], None]) -> None:
        def finished(outcome: Outcome[T]) -> None:
            if outcome.error is None:
                then(outcome.value)  # type: ignore[arg-type]

        self._asyncs.submit(coro, finished)


# Fraction digits of the grant's amounts in words (the wallet's asset may count in 10^-9).
BUDGET_DIGITS = 2


def budget_words(status: FundingStatus, style: NumberStyle | None = None) -> str:
    """ "3.20 USD of 5.00 USD left this month, renews on 6 January" — or why nothing is."""
    if status.problem is not None:
        return status.problem
    budget = status.budget
    if budget is None:
        return ""
    style = style or NumberStyle()
    # As a person reads money (cents for USD), in their locale; "left" rounded down: never
    # more than there is (a few units short of a cent show as they are: "0.000004 USD").
    left = format_amount(
        budget.left, budget.asset, style=style, max_digits=BUDGET_DIGITS, down=True
    )
    limit = format_amount(budget.limit, budget.asset, style=style, max_digits=BUDGET_DIGITS)
    words = f"{left} of {limit} left of your wallet's budget for Trickle"
    if budget.period_end is not None:
        words += f"; it renews on {budget.period_end:%d %B %Y}"
    if status.trouble is not None:
        words += f". {status.trouble}"
    return words + ("" if words.endswith(".") else ".")


def draft4_words() -> str:
    return (
        "This page uses the older Web Monetization API (draft 4), which only an Interledger "
        "account can pay: it is paid from your local account, not from your Open Payments "
        "wallet."
    )


class FundingNote(QWidget):
    """One line in the site popover about the connected wallet paying (or not) this site."""

    reconnect_requested = Signal()

    def __init__(
        self,
        port: FundingPort | None,
        parent: QWidget | None = None,
        *,
        style: NumberStyle | None = None,
    ) -> None:
        super().__init__(parent)
        self._port = port
        self._style = style or NumberStyle()
        self._draft4 = False
        self.words = QLabel(self)
        self.words.setTextFormat(Qt.TextFormat.PlainText)
        self.words.setWordWrap(True)
        self.words.setAccessibleName("Funding source")
        self.reconnect = QPushButton("Reconnect…", self)
        self.reconnect.setAccessibleName("Reconnect your wallet with a new budget")
        self.reconnect.clicked.connect(self.reconnect_requested)
        row = QHBoxLayout(self)
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(self.words, 1)
        row.addWidget(self.reconnect)
        if port is not None:
            port.changed.connect(self.refresh)
        self.refresh()

    def show_site(self, site: str) -> None:
        """The popover shows ``site``: a draft-4 page gets the words about the local account."""
        self._draft4 = self._port is not None and site in self._port.draft4_sites
        self.refresh()

    def refresh(self) -> None:
        port = self._port
        status = port.status if port is not None else None
        if status is None or status.source is not FundingSource.OPEN_PAYMENTS:
            self.hide()
            return
        name = (status.wallet.public_name or status.wallet.address) if status.wallet else ""
        text = f"Paid from your Open Payments wallet ({name}). {budget_words(status, self._style)}"
        if self._draft4:
            text = draft4_words()
        self.words.setText(text)
        self.words.setStyleSheet("color: #c0392b;" if status.problem else "")
        self.reconnect.setVisible(status.reconnect and not self._draft4)
        self.show()
