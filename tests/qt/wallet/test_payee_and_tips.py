"""Who receives a site's money, and "Send a tip", in the real widgets over a real profile.

* the site popover names the receiving wallet ("Paid to Alice's blog (wallet.example/alice)"),
  and the History table's "Paid to" column names it for the rows of that connection;
* the tip dialog, wired to a real payment layer (``Payments`` on its own asyncio loop, the
  sandbox's Open Payments server behind TLS, a link session of the page): a tip that does not
  fit the site's cap is refused in words before anything is asked or sent; one that fits is
  confirmed in a real ``QMessageBox`` and lands in a fresh incoming payment of the receiver,
  recorded in history as a tip.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Iterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from tests.op_support import op_sandbox
from tests.qt.wallet.seed import BLOG, USD
from tests.qt.wallet.test_amount_fields import answer_next_question
from ui.asyncbridge import AsyncBridge, LoopThread
from ui.wallet.context import WalletContext
from ui.wallet.history_model import PAYEE_COLUMN
from ui.wallet.popover import SitePopover
from ui.wallet.tip_dialog import TipDialog
from ui.wallet.window import WalletWindow
from wallet.budgets import SitePolicy
from wallet.payments import PAGE_CONNECTION_TEMPLATE, OpenPaymentsResolver, Payments
from wallet.payments.errors import LinkError, PaymentError
from wallet.payments.link_targets import LinkTarget
from wallet.payments.links import LinkPayment
from wallet.payments.tips import TipResult
from wallet.reports import HistoryFilter
from wallet.store.engine import transaction
from wallet.store.history import HistoryDelta, hour_of, record
from wallet.store.payees import PayeeKind, PayeeRecord

OFFSCREEN_DIALOG = r"This plugin does not support propagateSizeHints\(\)"
TIPPED = "https://tips.example"


@pytest.mark.allow_qt_messages(
    r"This plugin does not support raise\(\)",
    r"This plugin does not support grabbing the keyboard",
)
def test_the_popover_and_history_name_who_receives_the_money(
    qtbot: Any, ctx: WalletContext, window: WalletWindow, artifacts: Path
) -> None:
    alice = PayeeRecord(
        site=BLOG,
        connection="test.sandbox.you.link-1",
        href="https://wallet.example/alice",
        wallet_address="https://wallet.example/alice",
        public_name="Alice's blog",
        asset=USD,
        incoming_payment="https://wallet.example/incoming-payments/7f1c",
    )
    ctx.service.record_payee(alice)
    with transaction(ctx.history.engine) as conn:
        record(
            conn,
            [
                HistoryDelta(
                    BLOG,
                    "trickle://wallet",
                    USD,
                    hour_of(ctx.clock()),
                    alice.connection,
                    dest_asset=USD,
                    sent=5_000,
                    delivered=5_000,
                    packets=3,
                )
            ],
        )
    popover = SitePopover(ctx)
    qtbot.addWidget(popover)
    popover.show_site(BLOG)
    popover.adjustSize()
    popover.show()
    qtbot.waitExposed(popover)
    assert popover.payee.isVisible()
    assert popover.payee.text() == "Paid to Alice's blog (wallet.example/alice)"
    assert popover.grab().save(str(artifacts / "popover-paid-to.png"))
    popover.show_site("https://draft4-only.example")
    assert not popover.payee.isVisible()  # no link-tag payee: nothing named

    window.show_page("history")
    page = window.history
    page.show_site(BLOG)
    model = page.model
    texts = [model.index(i, PAYEE_COLUMN).data() for i in range(model.rowCount())]
    assert "Alice's blog (wallet.example/alice) · USD" in texts
    row = texts.index("Alice's blog (wallet.example/alice) · USD")
    tooltip = model.index(row, PAYEE_COLUMN).data(3)  # ToolTipRole
    assert "https://wallet.example/incoming-payments/7f1c" in tooltip
    page.view.scrollTo(model.index(row, PAYEE_COLUMN))
    assert window.grab().save(str(artifacts / "history-paid-to.png"))


class _Page:
    def on_load(self, target: LinkTarget) -> None: ...
    def on_error(self, error: LinkError) -> None: ...
    def on_payment(self, payment: LinkPayment) -> None: ...
    def on_stop(self, reason: PaymentError | None) -> None: ...
    def on_waiting(self, words: str | None) -> None: ...


class PaymentLayer:
    """``Payments`` on a loop thread over the sandbox, one page of ``TIPPED`` paying Alice."""

    def __init__(self, ctx: WalletContext, tmp: Path) -> None:
        self.loop = LoopThread("tips-test")
        self.asyncs = AsyncBridge(self.loop.loop)
        self._stack = AsyncExitStack()
        self.payments, self.sandbox = self.asyncs.submit(self._start(ctx, tmp)).result(30)

    async def _start(self, ctx: WalletContext, tmp: Path) -> tuple[Payments, Any]:
        sandbox = await self._stack.enter_async_context(op_sandbox(tmp))
        resolver = OpenPaymentsResolver(extra_ca_file=sandbox.ca_file)
        self._stack.push_async_callback(resolver.close)
        payments = Payments(
            ctx.service,
            asyncio.get_running_loop(),
            template=PAGE_CONNECTION_TEMPLATE,
            resolver=resolver,
        )
        handle = payments.document(TIPPED, attending=True)
        session = payments.pay_link(
            handle,
            sandbox.wallet("alice"),
            sandbox.network.account("you"),
            _Page(),
            provider="trickle:builtin",
        )
        async with asyncio.timeout(20):
            while session.target is None:
                await asyncio.sleep(0.02)
        self._stack.callback(handle.end)
        return payments, sandbox

    def received(self, incoming_payment: str) -> int:
        return int(self.sandbox.server.ledger.payments[incoming_payment].received)

    def close(self) -> None:
        self.asyncs.submit(self._stack.aclose()).result(30)
        self.asyncs.close()
        self.loop.stop()


@pytest.fixture
def layer(ctx: WalletContext, tmp_path: Path) -> Iterator[PaymentLayer]:
    ctx.service.set_site_policy(SitePolicy(TIPPED, rate_per_hour=3_600, cap_total=20_000_000))
    started = PaymentLayer(ctx, tmp_path)
    ctx.tips = lambda site, amount, asset: started.asyncs.submit(
        started.payments.tip(site, amount, asset)
    )
    yield started
    started.close()


def sending(dialog: TipDialog) -> concurrent.futures.Future[TipResult] | None:
    """The tip the dialog is sending (a call, so that type narrowing starts afresh)."""
    return dialog.pending


@pytest.mark.allow_qt_messages(OFFSCREEN_DIALOG)
def test_a_tip_is_checked_confirmed_and_sent_to_the_pages_link(
    qtbot: Any, ctx: WalletContext, layer: PaymentLayer, artifacts: Path
) -> None:
    dialog = TipDialog(ctx, TIPPED)
    qtbot.addWidget(dialog)
    dialog.show()
    qtbot.waitExposed(dialog)
    alice = "Paid to Alice's sandbox wallet (" + (
        layer.sandbox.wallet("alice").removeprefix("https://") + ")"
    )
    assert not dialog.payee.isVisible()  # (the page's stream has paid nothing yet)

    dialog.amount.setText("0.03")  # more than the 0.02 cap: refused before any question
    dialog.submit()
    assert dialog.message.text() == (
        "The tip does not fit: this site's total cap leaves room for 0.02 USD, not 0.03 USD."
    )
    assert dialog.pending is None

    seen: list[str] = []
    dialog.amount.setText("0.01")
    answer_next_question(qtbot, "Cancel", seen)
    dialog.submit()
    assert dialog.pending is None and "Send 0.01 USD to https://tips.example" in seen[0]

    answer_next_question(qtbot, "Send", seen)
    dialog.submit()
    pending = sending(dialog)
    assert pending is not None
    result = pending.result(30)
    qtbot.waitUntil(lambda: dialog.message.text().startswith("Tip sent."), timeout=10_000)
    (share,) = result.shares
    assert share.sent == share.delivered == 10_000_000 and share.error is None
    assert share.payee.incoming_payment is not None
    assert layer.received(share.payee.incoming_payment) == 10_000_000
    assert "Alice's sandbox wallet" in dialog.message.text() and "0.01 USD" in dialog.message.text()
    assert dialog.payee.text() == alice  # who the tip went to
    assert dialog.grab().save(str(artifacts / "tip-dialog-sent.png"))
    ctx.service.flush()
    rows = ctx.history.page(0, 50, flt=HistoryFilter(site=TIPPED))
    tips = [r for r in rows if r.payee is not None and r.payee.kind is PayeeKind.TIP]
    assert sum(r.delivered for r in tips) == 10_000_000
