"""A site's state and its words (``wallet.site_state``), with an injected clock and time zone."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wallet.amounts import NumberStyle
from wallet.budgets import (
    USD9,
    Defaults,
    GlobalPolicy,
    Reason,
    SitePolicy,
    SiteState,
    Usage,
    effective,
)
from wallet.site_state import (
    STREAMING_WINDOW,
    Cause,
    Fix,
    Inattention,
    PageFacts,
    Shown,
    SiteStatus,
    StatusBoard,
    StatusWords,
    WalletFacts,
    describe,
    site_status,
    when_text,
)

BERLIN = ZoneInfo("Europe/Berlin")
LA = ZoneInfo("America/Los_Angeles")
# Mon 7 Dec 2026, 14:00 in Berlin.
NOW = datetime(2026, 12, 7, 13, tzinfo=UTC)
CENT = 10_000_000  # 0.01 USD at scale 9
GLOB = GlobalPolicy(monthly_budget=500 * CENT, defaults=Defaults(cap_month=None))
OPEN = PageFacts(open=True, monetized=True)


def facts(policy: SitePolicy | None = None, **kw: object) -> WalletFacts:
    glob = kw.pop("glob", GLOB)
    assert isinstance(glob, GlobalPolicy)
    base = WalletFacts(effective(policy, glob.defaults), glob, Usage(), True)
    return replace(base, **kw)  # type: ignore[arg-type]


def status(wallet: WalletFacts, page: PageFacts = OPEN, now: datetime = NOW) -> SiteStatus:
    return site_status(wallet, page, now=now, tz=BERLIN)


def words(s: SiteStatus, now: datetime = NOW) -> StatusWords:
    return describe(s, asset=USD9, now=now, tz=BERLIN)


def test_streaming_while_money_went_out_recently_then_accruing() -> None:
    last_paid = NOW - timedelta(seconds=2)
    paid = replace(OPEN, last_paid=last_paid)
    s = status(facts(), paid)
    assert s == SiteStatus(Cause.STREAMING, next_change=last_paid + STREAMING_WINDOW)
    assert words(s) == StatusWords("Streaming", "Paying this site while you read it.")
    later = NOW + STREAMING_WINDOW
    assert status(facts(), paid, later).cause is Cause.ACCRUING
    assert status(facts(), OPEN).cause is Cause.ACCRUING
    assert words(status(facts())).label == "Accruing"


@pytest.mark.parametrize(
    ("state", "cause", "label", "fix"),
    [
        (SiteState.PAUSED, Cause.PAUSED, "Paused", Fix.RESUME),
        (SiteState.BLOCKED, Cause.BLOCKED, "Blocked", Fix.UNBLOCK),
    ],
)
def test_the_users_choice_comes_first(state: SiteState, cause: Cause, label: str, fix: Fix) -> None:
    # Whatever else holds: no provider, a cap reached, a page not monetized, not open.
    wallet = facts(
        SitePolicy("s", state, cap_day=CENT), has_provider=False, usage=Usage(site_day=CENT)
    )
    for page in (OPEN, PageFacts(), PageFacts(open=True)):
        s = status(wallet, page)
        assert s.cause is cause
        assert (words(s).label, words(s).fix) == (label, fix)
    # A blocked site that was paid is not "never paid".
    assert "never" not in words(SiteStatus(Cause.BLOCKED)).explanation


def test_payments_off_and_no_provider_and_provider_failing() -> None:
    off = facts(glob=replace(GLOB, enabled=False))
    assert words(status(off)).fix is Fix.TURN_ON
    none = facts(has_provider=False)
    s = status(none)
    assert s.cause is Cause.NO_PROVIDER
    assert (words(s).label, words(s).fix) == ("No provider", Fix.USE_TRICKLE_WALLET)
    # A page that does not ask to be paid is "not monetized", provider or not.
    assert status(none, PageFacts(open=True)).cause is Cause.NOT_MONETIZED
    failing = replace(OPEN, provider_failing=True, last_paid=NOW)
    assert status(facts(), failing).cause is Cause.PROVIDER_FAILING


def test_a_day_cap_says_which_and_until_local_midnight() -> None:
    wallet = facts(SitePolicy("s", cap_day=50 * CENT), usage=Usage(site_day=50 * CENT))
    s = status(wallet)
    midnight = datetime(2026, 12, 7, 23, tzinfo=UTC)  # 00:00 Tue 8 Dec in Berlin
    assert s == SiteStatus(Cause.DAY_CAP, 50 * CENT, midnight, midnight)
    w = words(s)
    assert w.label == "Day cap reached"
    assert w.explanation == (
        "This site reached its cap of 0.50 USD a day; it is paid again from tomorrow (Tue 8 Dec)."
    )
    assert w.fix is Fix.RAISE_CAP
    # In Los Angeles the same instant is Mon 5:00; its day ends at 08:00 UTC on Tue.
    la = site_status(wallet, OPEN, now=NOW, tz=LA)
    assert la.until == datetime(2026, 12, 8, 8, tzinfo=UTC)


def test_month_cap_global_budget_and_total_cap_until_when() -> None:
    first_of_january = datetime(2026, 12, 31, 23, tzinfo=UTC)
    month = status(facts(SitePolicy("s", cap_month=CENT), usage=Usage(site_month=CENT)))
    assert (month.cause, month.until) == (Cause.MONTH_CAP, first_of_january)
    assert words(month).explanation.endswith("; it is paid again from Fri 1 Jan 2027.")
    budget = status(facts(usage=Usage(global_month=500 * CENT)))
    assert (budget.cause, budget.until, budget.limit) == (
        Cause.GLOBAL_BUDGET,
        first_of_january,
        500 * CENT,
    )
    assert words(budget) == StatusWords(
        "Budget reached",
        "Your monthly budget of 5.00 USD for all sites is used up. "
        "Sites are paid again from Fri 1 Jan 2027.",
        Fix.RAISE_BUDGET,
    )
    total = status(facts(SitePolicy("s", cap_total=CENT), usage=Usage(site_total=2 * CENT)))
    assert (total.cause, total.until, total.next_change) == (Cause.TOTAL_CAP, None, None)
    assert words(total).explanation == (
        "This site reached its cap of 0.01 USD in total; it is not paid again until you raise it."
    )


def test_the_longest_lasting_limit_is_the_one_shown() -> None:
    all_reached = facts(
        SitePolicy("s", cap_day=CENT, cap_month=CENT, cap_total=CENT),
        usage=Usage(CENT, CENT, CENT, 500 * CENT),
    )
    assert status(all_reached).cause is Cause.TOTAL_CAP
    no_total = replace(all_reached, policy=replace(all_reached.policy, cap_total=None))
    assert status(no_total).cause is Cause.GLOBAL_BUDGET
    day_only = replace(no_total, usage=Usage(site_day=CENT))
    assert status(day_only).cause is Cause.DAY_CAP


def test_a_refusal_counts_while_it_is_current() -> None:
    # The ledger refused for the day cap with a little left (less than a packet).
    refused = facts(
        SitePolicy("s", cap_day=50 * CENT),
        usage=Usage(site_day=49 * CENT),
        refusal=Reason.DAY_CAP,
        refused_at=NOW - timedelta(minutes=5),
    )
    assert status(refused).cause is Cause.DAY_CAP
    # A payment after it, or the next day, supersedes it.
    assert status(refused, replace(OPEN, last_paid=NOW)).cause is Cause.STREAMING
    tomorrow = NOW + timedelta(hours=12)
    assert status(refused, OPEN, tomorrow).cause is Cause.ACCRUING
    # Refusals people are not told about (accrual) are no state of their own.
    accrual = replace(refused, refusal=Reason.NO_ACCRUAL)
    assert status(accrual).cause is Cause.ACCRUING


def test_money_still_flowing_from_a_lease_is_streaming_until_refused() -> None:
    # The counters hold the whole lease: the cap is "used" while its last part still pays.
    leased = facts(SitePolicy("s", cap_day=CENT), usage=Usage(site_day=CENT))
    flowing = replace(OPEN, last_paid=NOW - timedelta(seconds=1))
    assert status(leased, flowing).cause is Cause.STREAMING
    refused = replace(leased, refusal=Reason.DAY_CAP, refused_at=NOW)
    assert status(refused, flowing).cause is Cause.DAY_CAP


def test_balance_empty() -> None:
    assert status(facts(balance=0)).cause is Cause.BALANCE
    assert words(status(facts(balance=0))) == StatusWords(
        "Balance empty", "Your account has no money left to pay with.", Fix.ADD_MONEY
    )
    refused = facts(balance=3, refusal=Reason.BALANCE, refused_at=NOW)
    assert status(refused).cause is Cause.BALANCE
    assert status(facts(balance=None)).cause is Cause.ACCRUING  # not checked here


@pytest.mark.parametrize(
    ("why", "label"),
    [
        (Inattention.WINDOW_NOT_FRONT, "Not in front"),
        (Inattention.TAB_HIDDEN, "Tab hidden"),
        (Inattention.IDLE, "Idle"),
    ],
)
def test_not_paying_because_not_attended(why: Inattention, label: str) -> None:
    page = replace(OPEN, inattention=why, last_paid=NOW)
    s = status(facts(), page)
    assert s.cause.value == why.value
    assert words(s).label == label
    assert words(s).explanation.startswith("Not paying now: ")
    # A limit says more than the attention does.
    capped = facts(SitePolicy("s", cap_day=CENT), usage=Usage(site_day=CENT))
    assert status(capped, replace(page, last_paid=None)).cause is Cause.DAY_CAP


def test_a_page_stopped_by_a_limit_says_to_reload_once_the_limit_lifts() -> None:
    stopped = replace(OPEN, stopped=True)
    capped = facts(SitePolicy("s", cap_day=CENT), usage=Usage(site_day=CENT))
    assert status(capped, stopped).cause is Cause.DAY_CAP  # the limit still holds
    s = status(facts(), stopped)
    assert s.cause is Cause.STOPPED
    assert (words(s).label, words(s).fix) == ("Stopped", Fix.RELOAD)
    assert status(facts(), replace(stopped, inattention=Inattention.IDLE)).cause is Cause.STOPPED


def test_a_site_in_no_tab() -> None:
    assert status(facts(), PageFacts()).cause is Cause.NOT_OPEN
    assert words(SiteStatus(Cause.NOT_OPEN)).label == "Not open"


def test_when_text_is_english_relative_and_local() -> None:
    assert when_text(datetime(2026, 12, 7, 23, tzinfo=UTC), NOW, BERLIN) == "tomorrow (Tue 8 Dec)"
    assert when_text(datetime(2026, 12, 31, 23, tzinfo=UTC), NOW, BERLIN) == "Fri 1 Jan 2027"
    assert when_text(datetime(2026, 12, 20, 12, tzinfo=UTC), NOW, BERLIN) == "Sun 20 Dec"


def test_words_use_the_locale_for_amounts() -> None:
    s = SiteStatus(Cause.MONTH_CAP, 123_450 * CENT, None)
    german = describe(s, asset=USD9, now=NOW, tz=BERLIN, style=NumberStyle(",", ".", (3, 3)))
    assert "1.234,50 USD" in german.explanation


def test_the_board_tells_listeners_of_changes_only() -> None:
    board = StatusBoard()
    heard: list[str] = []
    stop = board.subscribe(heard.append)
    shown = Shown(Cause.PAUSED, words(SiteStatus(Cause.PAUSED)))
    board.publish("https://a.example", shown)
    board.publish("https://a.example", shown)
    assert heard == ["https://a.example"] and board.get("https://a.example") == shown
    stop()
    board.publish("https://a.example", Shown(Cause.ACCRUING, words(SiteStatus(Cause.ACCRUING))))
    assert heard == ["https://a.example"]


_reasons = st.sampled_from([None, *Reason])
_amounts = st.one_of(st.none(), st.integers(0, 10 * CENT))


@given(
    state=st.sampled_from(SiteState),
    enabled=st.booleans(),
    provider=st.booleans(),
    caps=st.tuples(_amounts, _amounts, _amounts, _amounts),
    used=st.tuples(*(st.integers(0, 10 * CENT) for _ in range(4))),
    balance=st.one_of(st.none(), st.integers(0, CENT)),
    refusal=_reasons,
    page=st.builds(
        PageFacts,
        open=st.booleans(),
        monetized=st.booleans(),
        inattention=st.one_of(st.none(), st.sampled_from(Inattention)),
        provider_failing=st.booleans(),
        last_paid=st.one_of(
            st.none(), st.timedeltas(timedelta(0), timedelta(hours=30)).map(lambda d: NOW - d)
        ),
    ),
    offset=st.timedeltas(timedelta(0), timedelta(days=40)),
)
def test_every_status_has_words_and_honest_limits(
    state: SiteState,
    enabled: bool,
    provider: bool,
    caps: tuple[int | None, int | None, int | None, int | None],
    used: tuple[int, int, int, int],
    balance: int | None,
    refusal: Reason | None,
    page: PageFacts,
    offset: timedelta,
) -> None:
    day, month, total, budget = caps
    policy = effective(SitePolicy("s", state, None, day, month, total), Defaults())
    wallet = WalletFacts(
        policy,
        GlobalPolicy(monthly_budget=budget, enabled=enabled),
        Usage(*used),
        provider,
        balance,
        refusal,
        NOW - timedelta(minutes=1) if refusal is not None else None,
    )
    now = NOW + offset
    s = site_status(wallet, page, now=now, tz=BERLIN)
    w = describe(s, asset=USD9, now=now, tz=BERLIN)
    assert w.label and w.explanation.endswith(".")
    # "Streaming" only while money went out within the window.
    if s.cause is Cause.STREAMING:
        assert page.last_paid is not None and now - page.last_paid <= STREAMING_WINDOW
    # A limit shown is one that is set; "until" is in the future and at a local midnight.
    if s.limit is not None:
        # (a cap left unset is the default's: an unconfigured site's month cap)
        assert s.limit in (policy.cap_day, policy.cap_month, policy.cap_total, budget)
    if s.until is not None:
        local = s.until.astimezone(BERLIN)
        assert s.until > now and (local.hour, local.minute) == (0, 0)
        assert s.next_change == s.until
    # The user's choices are never hidden by anything else.
    if state is not SiteState.ENABLED:
        assert s.cause.value == state.value
