"""The site popover: this site's state, spend and policy, edited in place (issue 8, item 2).

Opened from the toolbar indicator (or its keyboard shortcut). From the top:

* the site and its state in the words of :mod:`wallet.site_state` (label and explanation),
  with the fix where there is one ("Resume", "Raise the cap", "Use Trickle Wallet", ...);
* who the money goes to ("Paid to Alice's blog (wallet.example/alice)", :mod:`ui.wallet.payee`);
* what went to the site today, this month and in total (from the history);
* the account's balance and what is left of the monthly budget;
* its rate of pay and caps (empty = the default), and Save, Pause/Resume, Block/Unblock,
  Reset, "History for this site" and "Send a tip…".

While open it follows the wallet live (payments, refusals, policy, settings, the account):
the state and the figures change under the user's eyes; the fields the user edits do not.
Each part is a small builder method, so other parts can add a row without touching the rest.

Invariant: every edit goes through ``WalletService.set_site_policy``/``reset_site_policy`` (or
``set_global_policy``/``register_handler`` for a fix), which stop payments at once when the site
is paused or blocked.

Signals:
    history_requested(str): show the history of this site.
    settings_requested(): show the wallet's Settings at the monthly budget.
    account_requested(): show the wallet's Account page (to add money).
    reload_requested(str): reload the pages of this site (their payments ended for good).
"""

from __future__ import annotations

from dataclasses import replace

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QFormLayout,
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ui.plain_text import ADDRESS_CHARS, page_text
from ui.wallet.context import (
    BUILTIN_PROVIDER_NAME,
    BUILTIN_PROVIDER_ORIGIN,
    WalletContext,
)
from ui.wallet.fields import AmountField, with_unit
from ui.wallet.funding import FundingNote
from ui.wallet.guard import confirm_site_policy, read_fields, show_policy
from ui.wallet.indicator_state import IndicatorState
from ui.wallet.payee import PayeeLabel
from ui.wallet.tip_dialog import open_tip_dialog
from wallet.amounts import AmountError
from wallet.budgets import SitePolicy, SiteState
from wallet.provider import BUILTIN_HANDLER_URI
from wallet.reports import site_spend
from wallet.site_state import Cause, Fix, SiteStatus, StatusWords

# Live updates come at most this often (payments can arrive many times a second).
LIVE_REFRESH_MS = 250


def caption(text: str, parent: QWidget) -> QLabel:
    label = QLabel(text, parent)
    label.setStyleSheet("color: #5f6368;")
    return label


def plain_label(name: str, parent: QWidget, *, wrap: bool = False) -> QLabel:
    label = QLabel(parent)
    label.setTextFormat(Qt.TextFormat.PlainText)
    label.setAccessibleName(name)
    label.setWordWrap(wrap)
    return label


class SitePopover(QFrame):
    """State, spend and policy of one site."""

    history_requested = Signal(str)
    settings_requested = Signal()
    account_requested = Signal()
    reload_requested = Signal(str)

    def __init__(
        self,
        ctx: WalletContext,
        parent: QWidget | None = None,
        *,
        state: IndicatorState | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Popup)
        self._ctx = ctx
        self._state = state or ctx.site_states()
        self._site = ""
        self._fix: Fix | None = None
        self._cause: Cause | None = None
        self.setObjectName("site_popover")
        self.setAccessibleName("Site payments")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setMinimumWidth(440)
        self.body = QVBoxLayout(self)
        self.body.setContentsMargins(14, 12, 14, 12)
        self._build_header()
        self._build_payee()
        self._build_spend()
        self._build_wallet_line()
        self._build_form()
        self._build_buttons()

        self._live = QTimer(self)
        self._live.setSingleShot(True)
        self._live.setInterval(LIVE_REFRESH_MS)
        self._live.timeout.connect(self.update_live)
        self._state.site_changed.connect(self._on_site_changed)
        events = ctx.events
        for signal in (
            events.payment_committed,
            events.policy_changed,
            events.settings_changed,
            events.account_changed,
        ):
            signal.connect(self._on_wallet_event)  # a bound method: dropped with the popover

    # --- building ------------------------------------------------------------------------------

    def _build_header(self) -> None:
        self.title = plain_label("Site", self)
        self.title.setStyleSheet("font-weight: bold; font-size: 11pt;")
        self.status = plain_label("Site status", self)
        self.status.setStyleSheet("font-weight: bold;")
        self.explanation = plain_label("Why", self, wrap=True)
        self.fix = QPushButton(self)
        self.fix.setObjectName("site_fix")
        self.fix.clicked.connect(self.apply_fix)
        self.fix.hide()
        state_row = QHBoxLayout()
        state_row.addWidget(self.status)
        state_row.addStretch(1)
        state_row.addWidget(self.fix)
        self.body.addWidget(self.title)
        self.body.addLayout(state_row)
        self.body.addWidget(self.explanation)

    def _build_payee(self) -> None:
        self.payee = PayeeLabel(self._ctx, self)  # "Paid to Alice's blog (wallet.example/alice)"
        self.body.addWidget(self.payee)
        # paid from the connected wallet?
        self.funding = FundingNote(self._ctx.funding, self, style=self._ctx.style)
        self.body.addWidget(self.funding)

    def _build_spend(self) -> None:
        self.today = plain_label("Spent today", self)
        self.month = plain_label("Spent this month", self)
        self.total = plain_label("Spent in total", self)
        grid = QGridLayout()
        for col, (text, label) in enumerate(
            (("Today", self.today), ("This month", self.month), ("In total", self.total))
        ):
            label.setStyleSheet("font-size: 11pt;")
            grid.addWidget(caption(text, self), 0, col)
            grid.addWidget(label, 1, col)
        self.body.addLayout(grid)

    def _build_wallet_line(self) -> None:
        self.balance = plain_label("Account balance", self)
        self.budget_left = plain_label("Budget left this month", self)
        grid = QGridLayout()
        grid.addWidget(caption("Balance", self), 0, 0)
        grid.addWidget(self.balance, 1, 0)
        grid.addWidget(caption("Budget left this month", self), 0, 1)
        grid.addWidget(self.budget_left, 1, 1)
        self.body.addLayout(grid)

    def _build_form(self) -> None:
        asset = self._ctx.service.global_policy().budget_asset
        style = self._ctx.style
        self.rate = AmountField("Rate of pay per hour", asset, style, parent=self)
        self.cap_day = AmountField("Cap per day", asset, style, parent=self)
        self.cap_month = AmountField("Cap per month", asset, style, parent=self)
        self.cap_total = AmountField("Cap in total", asset, style, parent=self)
        form = QFormLayout()
        form.addRow("&Rate per hour", with_unit(self.rate))
        form.addRow("Cap per &day", with_unit(self.cap_day))
        form.addRow("Cap per &month", with_unit(self.cap_month))
        form.addRow("Cap in &total", with_unit(self.cap_total))
        self.error = plain_label("Error", self, wrap=True)
        self.error.setStyleSheet("color: #c0392b;")
        self.error.hide()
        self.body.addLayout(form)
        self.body.addWidget(self.error)
        for field in self._fields():
            field.returnPressed.connect(self._save)
            field.textEdited.connect(self.error.hide)

    def _build_buttons(self) -> None:
        self.save = self._button("&Save", "Save rate and caps", self._save)
        self.pause = self._button("&Pause", "Pause payments to this site", self._toggle_pause)
        self.block = self._button("&Block", "Block payments to this site", self._toggle_block)
        self.reset = self._button("Reset", "Reset this site to the defaults", self._reset)
        self.history = self._button("&History…", "History for this site", self._history)
        self.tip = self._button("Send a t&ip…", "Send a tip to this site", self._send_tip)
        self.save.setDefault(True)
        self.buttons = QHBoxLayout()
        for b in (self.save, self.pause, self.block, self.reset, self.history, self.tip):
            self.buttons.addWidget(b)
        self.body.addLayout(self.buttons)

    def _button(self, text: str, name: str, slot: object) -> QPushButton:
        b = QPushButton(text, self)
        b.setAccessibleName(name)
        b.clicked.connect(slot)
        return b

    def _fields(self) -> tuple[AmountField, AmountField, AmountField, AmountField]:
        return (self.rate, self.cap_day, self.cap_month, self.cap_total)

    # --- showing -------------------------------------------------------------------------------

    @property
    def site(self) -> str:
        return self._site

    def show_site(self, site: str) -> None:
        """Show ``site``: its policy in the fields, and everything live."""
        self._site = site
        self.funding.show_site(site)
        self.refresh()

    def refresh(self) -> None:
        """Fill the fields from the policy, and the live part."""
        svc = self._ctx.service
        show_policy(self._fields(), self._ctx, svc.site_policy(self._site), svc.global_policy())
        self.error.hide()
        self.update_live()

    def update_live(self) -> None:
        """The state, the figures, the balance and the budget: never the fields being edited."""
        if not self._site:
            return
        ctx, svc = self._ctx, self._ctx.service
        self.title.setText(page_text(self._site, ADDRESS_CHARS))
        status = self._state.statuses([self._site])[self._site]
        self.show_status(status, self._state.words(status))
        glob = svc.global_policy()
        asset = glob.budget_asset
        spend = site_spend(svc, self._site, ctx.clock(), ctx.tz)
        self.today.setText(ctx.money_map(spend.today, empty_asset=asset))
        self.month.setText(ctx.money_map(spend.month, empty_asset=asset))
        self.total.setText(ctx.money_map(spend.total, empty_asset=asset))
        self.balance.setText(ctx.balance_words_for(self._site))
        facts = svc.site_facts([self._site])[self._site]
        if glob.monthly_budget is None:
            self.budget_left.setText("No monthly budget")
        else:
            left = max(0, glob.monthly_budget - facts.usage.global_month)
            self.budget_left.setText(
                f"{ctx.money(left, asset)} of {ctx.money(glob.monthly_budget, asset)}"
            )
        self._show_policy_buttons(facts.policy.state)
        self.payee.show_site(self._site)

    def show_status(self, status: SiteStatus, words: StatusWords) -> None:
        self._cause = status.cause
        self.status.setText(words.label)
        self.explanation.setText(words.explanation)
        self._fix = words.fix
        if words.fix is None:
            self.fix.hide()
        else:
            self.fix.setText(words.fix.value)
            self.fix.setAccessibleName(f"{words.fix.value}: {words.label}")
            self.fix.show()

    def _show_policy_buttons(self, state: SiteState) -> None:
        paused, blocked = state is SiteState.PAUSED, state is SiteState.BLOCKED
        self.pause.setText("&Resume" if paused else "&Pause")
        self.pause.setAccessibleName(
            "Resume payments to this site" if paused else "Pause payments to this site"
        )
        self.pause.setEnabled(not blocked)
        self.tip.setEnabled(self._ctx.tips is not None and state is SiteState.ENABLED)
        self.block.setText("Un&block" if blocked else "&Block")
        self.block.setAccessibleName(
            "Unblock this site" if blocked else "Block payments to this site"
        )

    def _on_wallet_event(self, _event: object) -> None:
        self._schedule_live()

    def _schedule_live(self) -> None:
        if self.isVisible() and self._site and not self._live.isActive():
            self._live.start()

    def _on_site_changed(self, site: str) -> None:
        if site in ("", self._site):
            self._schedule_live()

    # --- the fix -------------------------------------------------------------------------------

    def apply_fix(self) -> None:
        """Do what the state's fix says (or take the user to where it is done)."""
        fix, svc = self._fix, self._ctx.service
        if fix in (Fix.RESUME, Fix.UNBLOCK):
            self._set_state(SiteState.ENABLED)
        elif fix is Fix.TURN_ON:
            svc.set_global_policy(replace(svc.global_policy(), enabled=True))
        elif fix is Fix.USE_TRICKLE_WALLET:
            self._use_builtin_provider()
        elif fix is Fix.RAISE_CAP:
            field = {Cause.DAY_CAP: self.cap_day, Cause.MONTH_CAP: self.cap_month}.get(
                self._cause or Cause.TOTAL_CAP, self.cap_total
            )
            field.setFocus()
            field.selectAll()
            return
        elif fix is Fix.RAISE_BUDGET:
            self.hide()
            self.settings_requested.emit()
            return
        elif fix is Fix.ADD_MONEY:
            self.hide()
            self.account_requested.emit()
            return
        elif fix is Fix.RELOAD:
            self.reload_requested.emit(self._site)
        self.update_live()

    def _use_builtin_provider(self) -> None:
        svc = self._ctx.service
        builtin = next(
            (
                h
                for h in svc.list_handlers()
                if h.origin == BUILTIN_PROVIDER_ORIGIN and h.handler_uri == BUILTIN_HANDLER_URI
            ),
            None,
        )
        if builtin is None:
            svc.register_handler(
                BUILTIN_PROVIDER_ORIGIN, BUILTIN_PROVIDER_NAME, BUILTIN_HANDLER_URI
            )
            builtin = next(h for h in svc.list_handlers() if h.handler_uri == BUILTIN_HANDLER_URI)
        if not builtin.active:
            svc.activate_handler(builtin.id)

    # --- editing -------------------------------------------------------------------------------

    def _policy(self, state: SiteState | None = None) -> SitePolicy | None:
        try:
            values = read_fields(self._fields())
        except AmountError as e:
            self.error.setText(str(e))
            self.error.show()
            return None
        old = self._ctx.service.site_policy(self._site)
        policy = SitePolicy(self._site, state or old.state, *values)
        return policy if confirm_site_policy(self, self._ctx, policy, old) else None

    def _save(self) -> None:
        if (p := self._policy()) is not None:
            self._ctx.service.set_site_policy(p)
            self.refresh()

    def _toggle_pause(self) -> None:
        old = self._ctx.service.site_policy(self._site).state
        self._set_state(SiteState.ENABLED if old is SiteState.PAUSED else SiteState.PAUSED)

    def _toggle_block(self) -> None:
        old = self._ctx.service.site_policy(self._site).state
        self._set_state(SiteState.ENABLED if old is SiteState.BLOCKED else SiteState.BLOCKED)

    def _set_state(self, state: SiteState) -> None:
        if (p := self._policy(state)) is not None:
            self._ctx.service.set_site_policy(p)
            self.refresh()

    def _reset(self) -> None:
        self._ctx.service.reset_site_policy(self._site)
        self.refresh()

    def _send_tip(self) -> None:
        self.hide()
        open_tip_dialog(self._ctx, self._site, self.parentWidget())

    def _history(self) -> None:
        self.hide()
        self.history_requested.emit(self._site)
