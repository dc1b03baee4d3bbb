"""The browser's facts of each site (``ui.wallet.indicator_state``): which tabs show it, which
are paid for now and why not, across windows; a refusal that ends a draft-4 page's sessions,
and one that only holds a link tag's; a link session that ends for good; a provider
failing; the statuses published for the demo sites. Real wallet database, injected clock."""

from __future__ import annotations

from typing import Any

from tests.qt.wallet.seed import COMICS, NEWS, TZ, USD, WALLET_ORIGIN, FakeClock
from ui.wallet.indicator_state import IndicatorState
from ui.wallet.qtevents import QtWalletEvents
from wallet.budgets import Reason, SitePolicy, SiteState
from wallet.events import BudgetReached, PaymentsEnded
from wallet.ledger import Reservation
from wallet.service import WalletService
from wallet.site_state import Cause, Fix, Inattention


class Tab:
    """A tab key (the browser uses its ``TabContext``)."""


def model(qtbot: Any, wallet: WalletService, clock: FakeClock) -> tuple[IndicatorState, Any]:
    events = QtWalletEvents(wallet.events)
    states = IndicatorState(wallet, tz=TZ, clock=clock)
    states.follow(events)
    return states, events


def test_why_an_open_page_is_not_paid_across_windows_and_tabs(
    qtbot: Any, wallet: WalletService, clock: FakeClock
) -> None:
    states, events = model(qtbot, wallet, clock)
    first, second = object(), object()  # two browser windows
    a, b, c = Tab(), Tab(), Tab()
    for key, site in ((a, NEWS), (b, COMICS), (c, NEWS)):
        states.begin_visit(key, site)
        states.set_monetized(key, True)
    states.set_current(a, first)
    states.set_current(b, second)
    states.set_visible(b, True)  # the second window is in front
    assert states.current_key(first) is a and states.current_key() is b
    # NEWS is selected in the first window (not in front) and hidden in c: "not in front".
    assert states.page_facts(NEWS).inattention is Inattention.WINDOW_NOT_FRONT
    assert states.status(NEWS).cause is Cause.WINDOW_NOT_FRONT
    states.set_window_attention(idle=True, window=first)
    assert states.status(NEWS).cause is Cause.IDLE
    # Another tab selected in the first window: NEWS is only in hidden tabs.
    other = Tab()
    states.begin_visit(other, "https://elsewhere.example")
    states.set_current(other, first)
    assert states.status(NEWS).cause is Cause.TAB_HIDDEN
    assert states.status(COMICS).cause is Cause.ACCRUING
    # Closed: not open.
    states.forget(a)
    states.forget(c)
    assert states.status(NEWS).cause is Cause.NOT_OPEN
    assert NEWS not in states.open_sites()
    events.close()


def streaming(
    qtbot: Any, states: IndicatorState, wallet: WalletService, clock: FakeClock
) -> tuple[Tab, int]:
    """A tab in front showing COMICS, whose page asks to be paid and was paid: what went."""
    tab = Tab()
    states.begin_visit(tab, COMICS)
    states.set_current(tab)
    states.set_visible(tab, True)
    states.set_monetized(tab, True)
    wallet.set_site_active(COMICS, True)
    clock.advance(seconds=10)
    got = wallet.reserve(COMICS, WALLET_ORIGIN, USD, 100_000)
    assert isinstance(got, Reservation)
    wallet.commit(got, delivered=got.amount)
    qtbot.waitUntil(lambda: states.status(COMICS).cause is Cause.STREAMING)
    return tab, got.amount


def test_a_refusal_stops_a_draft4_page_until_a_new_session_and_payments_show_streaming(
    qtbot: Any, wallet: WalletService, clock: FakeClock
) -> None:
    states, events = model(qtbot, wallet, clock)
    states.draft4_sites = {COMICS}  # its page opened a draft-4 connection
    tab, paid = streaming(qtbot, states, wallet, clock)
    assert states.current().sent == paid
    shown = wallet.statuses.get(COMICS)
    assert shown is not None and shown.words.label == "Streaming"  # for the demo sites
    # A cap reached: its words; lifted: the page's sessions ended, so "Stopped" (reload).
    wallet.set_site_policy(SitePolicy(COMICS, cap_day=1))
    clock.advance(seconds=60)  # longer than a payment counts as streaming
    refused = wallet.reserve(COMICS, WALLET_ORIGIN, USD, 100_000)
    assert not isinstance(refused, Reservation) and refused.reason is Reason.DAY_CAP
    qtbot.waitUntil(lambda: states.status(COMICS).cause is Cause.DAY_CAP)
    wallet.reset_site_policy(COMICS)
    qtbot.waitUntil(lambda: states.status(COMICS).cause is Cause.STOPPED)
    assert states.words(states.status(COMICS)).fix is not None
    states.set_monetized(tab, True)  # reloaded: a new session
    assert states.status(COMICS).cause is Cause.ACCRUING
    # The provider proves a payment that does not verify: failing, until money flows again.
    wallet.events.emit(BudgetReached(COMICS, Reason.PROVIDER_FAILING))
    qtbot.waitUntil(lambda: states.status(COMICS).cause is Cause.PROVIDER_FAILING)
    clock.advance(seconds=10)
    got = wallet.reserve(COMICS, WALLET_ORIGIN, USD, 100_000)
    assert isinstance(got, Reservation)
    wallet.commit(got, delivered=got.amount)
    qtbot.waitUntil(lambda: states.status(COMICS).cause is Cause.STREAMING)
    # Time alone ends "streaming": the model re-evaluates at the status's next change.
    clock.advance(seconds=60)
    states.refresh()
    assert states.status(COMICS).cause is Cause.ACCRUING
    events.close()


def test_a_link_tag_page_shows_the_limit_then_pays_on_and_is_stopped_only_when_its_session_ends(
    qtbot: Any, wallet: WalletService, clock: FakeClock
) -> None:
    states, events = model(qtbot, wallet, clock)
    tab, _ = streaming(qtbot, states, wallet, clock)  # its link tag's (no draft-4 page)
    # A cap reached: its own words, never "Stopped" — the link session holds.
    wallet.set_site_policy(SitePolicy(COMICS, cap_day=1))
    clock.advance(seconds=60)
    refused = wallet.reserve(COMICS, WALLET_ORIGIN, USD, 100_000)
    assert not isinstance(refused, Reservation) and refused.reason is Reason.DAY_CAP
    qtbot.waitUntil(lambda: states.status(COMICS).cause is Cause.DAY_CAP)
    assert not states.current().stopped
    # Paused and blocked: their own causes; lifted: the held session resumes, no reload.
    for state, cause in ((SiteState.PAUSED, Cause.PAUSED), (SiteState.BLOCKED, Cause.BLOCKED)):
        wallet.set_site_policy(SitePolicy(COMICS, state))
        refused = wallet.reserve(COMICS, WALLET_ORIGIN, USD, 100_000)
        assert not isinstance(refused, Reservation)
        qtbot.waitUntil(lambda: states.status(COMICS).cause is cause)  # noqa: B023
    wallet.reset_site_policy(COMICS)
    qtbot.waitUntil(lambda: states.status(COMICS).cause is Cause.ACCRUING)
    assert not states.current().stopped
    # Its session really ended (the receiver gave up): "Stopped", and a reload is the fix.
    wallet.events.emit(PaymentsEnded(COMICS, "its wallet cannot be reached"))
    qtbot.waitUntil(lambda: states.status(COMICS).cause is Cause.STOPPED)
    assert states.words(states.status(COMICS)).fix is Fix.RELOAD
    states.set_monetized(tab, True)  # reloaded: a new session
    assert states.status(COMICS).cause is Cause.ACCRUING
    events.close()


def test_a_new_visit_starts_afresh(qtbot: Any, wallet: WalletService, clock: FakeClock) -> None:
    states, events = model(qtbot, wallet, clock)
    tab = Tab()
    states.begin_visit(tab, NEWS)
    states.set_monetized(tab, True)
    states.add_sent(tab, 5, USD)
    seen: list[object] = []
    states.changed.connect(seen.append)
    states.begin_visit(tab, NEWS)  # the same site: the visit goes on
    assert states.state(tab).sent == 5 and not seen
    states.begin_visit(tab, COMICS)
    assert states.state(tab).sent == 0 and not states.state(tab).monetized
    assert seen == [tab]
    assert states.status(COMICS).cause is Cause.NOT_MONETIZED
    events.close()
