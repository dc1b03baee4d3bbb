"""Edits in the wallet UI persist (reopen the service: same values) and take effect on the ledger
at once: a paused site's next reservation is refused; a lowered cap stops reservations at it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.qt.wallet.seed import COMICS, NEWS, PODCAST, TZ, USD, WALLET_ORIGIN, FakeClock
from ui.browser.attention import Attention
from ui.wallet.attention_rules import AttentionRules
from ui.wallet.context import WalletContext
from ui.wallet.window import WalletWindow
from wallet.budgets import Reason, SiteState
from wallet.ledger import Refusal, Reservation
from wallet.service import WalletService


def reopen(profile: Path, clock: FakeClock) -> WalletService:
    return WalletService.open(profile, tz=TZ, clock=clock)


def stream(svc: WalletService, clock: FakeClock, site: str, packets: int) -> tuple[int, Any]:
    """Send up to ``packets`` packets, 2 s apart; returns (amount sent, the last result)."""
    sent = 0
    got: Any = None
    svc.set_site_active(site, True)
    for _ in range(packets):
        clock.advance(seconds=2)
        got = svc.reserve(site, WALLET_ORIGIN, USD, 150_000)
        if isinstance(got, Refusal):
            break
        svc.commit(got, delivered=got.amount)
        sent += got.amount
    return sent, got


def test_pause_in_the_sites_page_stops_payments_and_persists(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, profile: Path, clock: FakeClock
) -> None:
    svc = ctx.service
    sent, last = stream(svc, clock, COMICS, 3)
    assert sent > 0 and isinstance(last, Reservation)
    page = window.sites
    window.show_page("sites")
    assert page.select(COMICS)
    page.state.setCurrentIndex(page.state.findData(SiteState.PAUSED))
    page.save.click()
    # The very next call is refused: no waiting for a cache or a timer.
    assert svc.allowance(COMICS, USD, 150_000).amount == 0
    clock.advance(seconds=2)
    refused = svc.reserve(COMICS, WALLET_ORIGIN, USD, 150_000)
    assert isinstance(refused, Refusal) and refused.reason is Reason.PAUSED
    qtbot.waitUntil(lambda: page.table.item(0, 0) is not None)
    again = reopen(profile, clock)
    try:
        assert again.site_policy(COMICS).state is SiteState.PAUSED
    finally:
        again.close()


def test_lowered_day_cap_stops_reservations_at_the_new_cap(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, profile: Path, clock: FakeClock
) -> None:
    svc = ctx.service
    page = window.sites
    window.show_page("sites")
    assert page.select(NEWS)
    page.cap_day.setText("0.01")  # 10_000_000 units today, for a site that has sent 0.0045
    page.save.click()
    assert svc.site_policy(NEWS).cap_day == 10_000_000
    svc.flush()
    _sent, last = stream(svc, clock, NEWS, 400)
    assert isinstance(last, Refusal) and last.reason is Reason.DAY_CAP
    svc.flush()
    paid_today = sum(t.sent for t in svc.site_totals(start=clock.now.replace(hour=0), site=NEWS))
    assert paid_today <= 10_000_000
    assert paid_today > 10_000_000 - 150_000 - 600_000_000 // 60  # stopped at the cap, not before
    again = reopen(profile, clock)
    try:
        assert again.site_policy(NEWS).cap_day == 10_000_000
        assert again.site_policy(NEWS).rate_per_hour == 1_200_000_000  # untouched fields kept
    finally:
        again.close()


def test_popover_pause_resume_and_block(
    qtbot: Any, ctx: WalletContext, profile: Path, clock: FakeClock
) -> None:
    from ui.wallet.popover import SitePopover

    pop = SitePopover(ctx)
    qtbot.addWidget(pop)
    pop.show_site(PODCAST)
    pop.pause.click()
    assert ctx.service.allowance(PODCAST, USD, 1).reason is Reason.PAUSED
    assert pop.pause.text() == "&Resume"
    pop.pause.click()
    assert ctx.service.site_policy(PODCAST).state is SiteState.ENABLED
    pop.block.click()
    assert ctx.service.allowance(PODCAST, USD, 1).reason is Reason.BLOCKED
    assert not pop.pause.isEnabled()
    pop.cap_total.setText("abc")
    pop.save.click()
    assert pop.error.isVisibleTo(pop) and "not an amount" in pop.error.text()
    pop.cap_total.setText("3")
    pop.save.click()
    assert ctx.service.site_policy(PODCAST).cap_total == 3_000_000_000
    pop.reset.click()
    assert ctx.service.site_policy(PODCAST).state is SiteState.ENABLED
    again = reopen(profile, clock)
    try:
        assert again.site_policy(PODCAST).cap_total is None
    finally:
        again.close()


def test_settings_persist_and_apply(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, profile: Path, clock: FakeClock
) -> None:
    page = window.settings
    window.show_page("settings")
    page.monthly.setText("7.5")
    page.rate.setText("0.30")
    page.cap_day.setText("0.02")
    attention = Attention()  # what a browser window follows the settings with
    AttentionRules(attention, ctx.service, ctx.events)
    assert (attention.focused_only, attention.idle_after) == (True, 600.0)  # the defaults
    page.focused_only.setChecked(False)
    page.idle.setValue(25)
    page.save.click()
    assert page.message.text() == "Saved."
    assert (attention.focused_only, attention.idle_after) == (False, 25 * 60.0)  # at once
    again = reopen(profile, clock)
    try:
        glob = again.global_policy()
        assert glob.monthly_budget == 7_500_000_000
        assert glob.defaults.rate_per_hour == 300_000_000
        assert glob.defaults.cap_day == 20_000_000
        assert again.setting("pay_focused_only") is False
        assert again.setting("idle_stop_minutes") == 25
    finally:
        again.close()
    # This month's spend (7.42) is under 7.50: a site can still be paid, up to what is left.
    ctx.service.set_site_active(COMICS, True)
    clock.advance(seconds=30)
    d = ctx.service.allowance(COMICS, USD, 10**12)
    assert 0 < d.amount <= 7_500_000_000
    page.monthly.setText("1")
    page.save.click()
    refused = ctx.service.allowance(COMICS, USD, 1)
    assert refused.amount == 0 and refused.reason is Reason.GLOBAL_BUDGET


def test_providers_switch_remove_and_add_builtin(
    qtbot: Any, window: WalletWindow, ctx: WalletContext
) -> None:
    svc = ctx.service
    svc.register_handler("https://other.example", "Other Wallet", "https://other.example/h")
    page = window.providers
    window.show_page("providers")
    assert page.select_name("Other Wallet")
    page.activate.click()
    active = svc.active_handler()
    assert active is not None and active.name == "Other Wallet"
    assert "Other Wallet" in page.note.text()
    assert page.select_name("Other Wallet")
    page.remove.click()
    assert svc.active_handler() is None
    assert "No provider is active" in page.note.text()
    page.add_builtin.click()
    names = [h.name for h in svc.list_handlers()]
    assert "Trickle wallet" in names
    assert not page.add_builtin.isEnabled()


def test_account_top_up_and_uplink_token_goes_to_the_secret_store(
    qtbot: Any, window: WalletWindow, ctx: WalletContext, profile: Path
) -> None:
    page = window.account
    window.show_page("account")
    before = ctx.service.account("sandbox")
    assert before is not None
    page.top_up_amount.setText("2.5")
    page.top_up.click()
    after = ctx.service.account("sandbox")
    assert after is not None and after.balance == before.balance + 2_500_000_000
    assert page.balance.text() == ctx.money(after.balance, after.asset, max_digits=None)

    page.url.setText("https://user:pw@connector.example/ilp")
    page.save_uplink.click()
    assert "credentials" in page.message.text().lower() or page.message.text()
    assert ctx.service.setting("uplink") is None

    token = "tok-3c1f-not-in-sqlite"
    page.url.setText("https://connector.example/ilp")
    page.account.setText("alice")
    page.token.setText(token)
    page.save_uplink.click()
    assert page.token.text() == ""
    stored = ctx.secrets.get("uplink-token:default") if ctx.secrets else None
    assert stored is not None and stored.reveal() == token
    assert ctx.service.setting("uplink") == {
        "url": "https://connector.example/ilp",
        "account": "alice",
    }
    for f in profile.iterdir():
        if f.is_file():
            assert token.encode() not in f.read_bytes(), f
