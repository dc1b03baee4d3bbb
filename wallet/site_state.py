"""A site's payment state, its cause, and the words people read for it. Pure, no I/O.

The one source of truth for "what is happening with this site's money": the toolbar indicator,
the site popover, the Sites table and the demo pages all show :func:`site_status` through
:func:`describe`, so they say the same thing in the same words.

Facts come in as plain values — what the wallet knows (:class:`WalletFacts`, read by
``WalletService.site_facts``: policy, global budget, usage counters, provider, balance, its last
refusal) and what the browser knows (:class:`PageFacts`: open, monetized, attended, the provider
failing, the last payment) — with ``now`` from the caller's clock and the user's time zone.

Rules, in order (the first that holds is the cause):

1. The user's own choices: blocked, paused, payments switched off.
2. An open page that does not ask to be paid is "not monetized".
3. Nothing can pay: no provider; the provider failing (it proved a payment that does not verify).
4. A limit: the site's total cap, the global monthly budget, the site's month cap, its day cap
   (the one that lasts longest first: lifting a shorter one would not help), then the balance.
   A limit counts as reached when the ledger's counters reach it or the wallet's last refusal
   says so — unless money is still flowing (a lease granted before the limit pays out its last
   part): then the site is streaming, and says "reached" once the ledger refuses.
5. A page whose payments ended for good is "stopped" once any other cause lifts, and only a
   reload (a new document) pays it again — the fix says so: a draft-4 page's connections end
   at any refusal but "not now" (``wallet.payments.gate``), a link session when its receiver
   gave up after the back-off. A limit (a cap, the budget, the balance, a pause, a block,
   payments off) never ends a link session: it holds and resumes by itself when the limit
   lifts (``wallet.payments.lifecycle``), so such a page shows the limit's own cause.
6. A site in no tab is "not open"; one that is open but not attended is not paid because its
   window is not in front, its tab is hidden, or the user is idle.
7. Otherwise it is streaming (money went out within :data:`STREAMING_WINDOW`) or accruing (pay
   for the reading time is adding up towards the next packet).

Invariants: amounts are ``int`` budget units; "until when" is a local midnight computed from
``now`` in ``tz``; :attr:`SiteStatus.next_change` says when time alone changes the status, so a
view re-evaluates then instead of polling.
"""

from __future__ import annotations

import enum
import threading
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from wallet.amounts import NumberStyle, format_amount
from wallet.budgets import (
    PACE,
    Asset,
    Effective,
    GlobalPolicy,
    Reason,
    SiteState,
    Usage,
    day_bounds,
    month_bounds,
    period_keys,
)

# A site is "streaming" while its last payment is at most this old. Packets go out every PACE
# while the rate of pay limits a connection; five missed in a row (a busy machine, a slow
# path) end it — every stop with a cause of its own (paused, a cap, attention) shows at once.
STREAMING_WINDOW = 5 * PACE


class Cause(enum.StrEnum):
    """What a site's state is, and why."""

    NOT_MONETIZED = "not_monetized"
    NOT_OPEN = "not_open"
    STREAMING = "streaming"
    ACCRUING = "accruing"
    PAUSED = "paused"
    BLOCKED = "blocked"
    PAYMENTS_OFF = "payments_off"
    NO_PROVIDER = "no_provider"
    PROVIDER_FAILING = "provider_failing"
    TOTAL_CAP = "total_cap"
    GLOBAL_BUDGET = "global_budget"
    MONTH_CAP = "month_cap"
    DAY_CAP = "day_cap"
    BALANCE = "balance"
    STOPPED = "stopped"
    WINDOW_NOT_FRONT = "window_not_front"
    TAB_HIDDEN = "tab_hidden"
    IDLE = "idle"


class Inattention(enum.StrEnum):
    """Why an open page is not attended to (so nothing accrues for it)."""

    WINDOW_NOT_FRONT = "window_not_front"
    TAB_HIDDEN = "tab_hidden"
    IDLE = "idle"


class Fix(enum.StrEnum):
    """The one action that ends a state, as its button reads."""

    RESUME = "Resume"
    UNBLOCK = "Unblock"
    TURN_ON = "Turn payments on"
    USE_TRICKLE_WALLET = "Use Trickle Wallet"
    RAISE_CAP = "Raise the cap"
    RAISE_BUDGET = "Raise the budget"
    ADD_MONEY = "Add money"
    RELOAD = "Reload"


@dataclass(frozen=True, slots=True)
class WalletFacts:
    """What the wallet knows of one site.

    Attributes:
        policy: the site's policy with the defaults filled in.
        glob: the global policy (budget asset, monthly budget, on/off).
        usage: the ledger's counters for now's day and month (spent or leased, budget units).
        has_provider: a provider is active.
        balance: the paying account's balance when the wallet checks it (the built-in
            provider on the sandbox), else ``None``.
        refusal: the wallet's last refusal of this site (a limit or the balance) that no
            payment, policy change or top-up has superseded; ``refused_at`` when.
    """

    policy: Effective
    glob: GlobalPolicy
    usage: Usage
    has_provider: bool
    balance: int | None = None
    refusal: Reason | None = None
    refused_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class PageFacts:
    """What the browser knows of one site's pages (all tabs showing it together).

    Attributes:
        open: a tab shows the site.
        monetized: one of its pages asks to be paid.
        inattention: why none of them is attended to (``None``: one is).
        provider_failing: the provider proved a payment for one of them that does not verify.
        stopped: the payments of all its monetized pages ended for good (until reloaded).
        last_paid: when money last went out to the site.
    """

    open: bool = False
    monetized: bool = False
    inattention: Inattention | None = None
    provider_failing: bool = False
    stopped: bool = False
    last_paid: datetime | None = None


@dataclass(frozen=True, slots=True)
class SiteStatus:
    """A site's state and cause.

    Attributes:
        cause: what is happening, and why.
        limit: the cap or budget reached (budget units), for the limit causes.
        until: when that limit lifts by itself (local midnight, aware), ``None`` if it never does.
        next_change: when time alone changes this status (``None``: only a fact can).
    """

    cause: Cause
    limit: int | None = None
    until: datetime | None = None
    next_change: datetime | None = None


_LIMIT_REASONS = {
    Reason.TOTAL_CAP: Cause.TOTAL_CAP,
    Reason.GLOBAL_BUDGET: Cause.GLOBAL_BUDGET,
    Reason.MONTH_CAP: Cause.MONTH_CAP,
    Reason.DAY_CAP: Cause.DAY_CAP,
    Reason.BALANCE: Cause.BALANCE,
}
REFUSALS_SHOWN = frozenset(_LIMIT_REASONS)


def site_status(wallet: WalletFacts, page: PageFacts, *, now: datetime, tz: ZoneInfo) -> SiteStatus:
    """The state of one site now, by the rules in this module's docstring."""
    if wallet.policy.state is SiteState.BLOCKED:
        return SiteStatus(Cause.BLOCKED)
    if wallet.policy.state is SiteState.PAUSED:
        return SiteStatus(Cause.PAUSED)
    if not wallet.glob.enabled:
        return SiteStatus(Cause.PAYMENTS_OFF)
    if page.open and not page.monetized:
        return SiteStatus(Cause.NOT_MONETIZED)
    if not wallet.has_provider:
        return SiteStatus(Cause.NO_PROVIDER)
    if page.provider_failing:
        return SiteStatus(Cause.PROVIDER_FAILING)
    streaming_until = _streaming_until(page, now)
    refusal = _current_refusal(wallet, page, now, tz)
    flowing = streaming_until is not None and refusal is None
    limit = _limit_reached(wallet, refusal, flowing)
    if limit is not None:
        cause, amount = limit
        until = _lifts_at(cause, now, tz)
        return SiteStatus(cause, amount, until, until)
    if not flowing and (
        refusal is Reason.BALANCE or (wallet.balance is not None and wallet.balance <= 0)
    ):
        return SiteStatus(Cause.BALANCE)
    if not page.open:
        return SiteStatus(Cause.NOT_OPEN)
    if page.stopped:
        return SiteStatus(Cause.STOPPED)
    if page.inattention is not None:
        return SiteStatus(Cause(page.inattention.value))
    if streaming_until is not None:
        return SiteStatus(Cause.STREAMING, next_change=streaming_until)
    return SiteStatus(Cause.ACCRUING)


def _streaming_until(page: PageFacts, now: datetime) -> datetime | None:
    """When the site stops counting as streaming, if it does now."""
    if page.last_paid is None or now - page.last_paid > STREAMING_WINDOW:
        return None
    return page.last_paid + STREAMING_WINDOW


def _current_refusal(
    wallet: WalletFacts, page: PageFacts, now: datetime, tz: ZoneInfo
) -> Reason | None:
    """The wallet's last refusal, if nothing has happened since that lifts it: no payment
    went out after it, and for a day or month limit, the day or month is still the same."""
    reason, at = wallet.refusal, wallet.refused_at
    if reason not in REFUSALS_SHOWN or at is None:
        return None
    if page.last_paid is not None and page.last_paid > at:
        return None
    day_then, month_then = period_keys(at, tz)
    day_now, month_now = period_keys(now, tz)
    if reason is Reason.DAY_CAP and day_then != day_now:
        return None
    if reason in (Reason.MONTH_CAP, Reason.GLOBAL_BUDGET) and month_then != month_now:
        return None
    return reason


def _limit_reached(
    wallet: WalletFacts, refusal: Reason | None, flowing: bool
) -> tuple[Cause, int] | None:
    eff, usage = wallet.policy, wallet.usage
    for reason, cap, used in (
        (Reason.TOTAL_CAP, eff.cap_total, usage.site_total),
        (Reason.GLOBAL_BUDGET, wallet.glob.monthly_budget, usage.global_month),
        (Reason.MONTH_CAP, eff.cap_month, usage.site_month),
        (Reason.DAY_CAP, eff.cap_day, usage.site_day),
    ):
        if cap is None:
            continue
        if refusal is reason or (not flowing and used >= cap):
            return _LIMIT_REASONS[reason], cap
    return None


def _lifts_at(cause: Cause, now: datetime, tz: ZoneInfo) -> datetime | None:
    if cause is Cause.DAY_CAP:
        return day_bounds(now, tz)[1]
    if cause in (Cause.MONTH_CAP, Cause.GLOBAL_BUDGET):
        return month_bounds(now, tz)[1]
    return None


# --- words ----------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class StatusWords:
    """What a person reads: a short label, one explanation, and the fix (if there is one)."""

    label: str
    explanation: str
    fix: Fix | None = None

    def sentence(self) -> str:
        """Label and explanation as one line ("Paused — You paused payments to this site.")."""
        return f"{self.label} — {self.explanation}"


_PLAIN = NumberStyle()
_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def when_text(at: datetime, now: datetime, tz: ZoneInfo) -> str:
    """A local day for people, relative to ``now``: "tomorrow (Tue 8 Dec)", "Fri 1 Jan 2027".

    Names are English and fixed (never the C library's locale, which Qt may have set)."""
    local, today = at.astimezone(tz), now.astimezone(tz).date()
    day = f"{_DAYS[local.weekday()]} {local.day} {_MONTHS[local.month - 1]}"
    if local.year != today.year:
        day = f"{day} {local.year}"
    if local.date() == today + timedelta(days=1):
        return f"tomorrow ({day})"
    return day


_FIXED: dict[Cause, StatusWords] = {
    Cause.NOT_MONETIZED: StatusWords("Not monetized", "This page does not ask to be paid."),
    Cause.NOT_OPEN: StatusWords(
        "Not open", "Paid only while you read it in a tab in front of you."
    ),
    Cause.STREAMING: StatusWords("Streaming", "Paying this site while you read it."),
    Cause.ACCRUING: StatusWords(
        "Accruing", "Pay for your time here is adding up; it goes out in a moment."
    ),
    Cause.PAUSED: StatusWords("Paused", "You paused payments to this site.", Fix.RESUME),
    Cause.BLOCKED: StatusWords(
        "Blocked", "You blocked this site: it is not paid until you unblock it.", Fix.UNBLOCK
    ),
    Cause.PAYMENTS_OFF: StatusWords(
        "Payments off", "Payments to all sites are switched off.", Fix.TURN_ON
    ),
    Cause.NO_PROVIDER: StatusWords(
        "No provider",
        "Nothing pays this site until you choose a provider; Trickle Wallet is built in.",
        Fix.USE_TRICKLE_WALLET,
    ),
    Cause.PROVIDER_FAILING: StatusWords(
        "Provider failing",
        "Your provider's proof of payment did not check out, so this page pays nothing more "
        "through it. Reload the page to try again.",
    ),
    Cause.BALANCE: StatusWords(
        "Balance empty", "Your account has no money left to pay with.", Fix.ADD_MONEY
    ),
    Cause.STOPPED: StatusWords(
        "Stopped",
        "Payments to this page stopped; reload the page to pay it again.",
        Fix.RELOAD,
    ),
    Cause.WINDOW_NOT_FRONT: StatusWords(
        "Not in front", "Not paying now: this window is not in front."
    ),
    Cause.TAB_HIDDEN: StatusWords("Tab hidden", "Not paying now: its tab is not the one in front."),
    Cause.IDLE: StatusWords(
        "Idle", "Not paying now: you have been idle. Move the mouse or type to go on."
    ),
}


def describe(
    status: SiteStatus,
    *,
    asset: Asset,
    now: datetime,
    tz: ZoneInfo,
    style: NumberStyle = _PLAIN,
) -> StatusWords:
    """The words for ``status`` (``asset``: the budget asset its limit is in)."""
    fixed = _FIXED.get(status.cause)
    if fixed is not None:
        return fixed
    amount = format_amount(status.limit or 0, asset, style=style)
    again = (
        f"paid again from {when_text(status.until, now, tz)}"
        if status.until is not None
        else "not paid again until you raise it"
    )
    if status.cause is Cause.GLOBAL_BUDGET:
        return StatusWords(
            "Budget reached",
            f"Your monthly budget of {amount} for all sites is used up. Sites are {again}.",
            Fix.RAISE_BUDGET,
        )
    label, per = {
        Cause.DAY_CAP: ("Day cap reached", "a day"),
        Cause.MONTH_CAP: ("Month cap reached", "a month"),
    }.get(status.cause, ("Total cap reached", "in total"))
    return StatusWords(
        label, f"This site reached its cap of {amount} {per}; it is {again}.", Fix.RAISE_CAP
    )


# --- the words shown, for observers outside the UI ------------------------------------------


@dataclass(frozen=True, slots=True)
class Shown:
    """What the UI shows for a site: the cause and its words."""

    cause: Cause
    words: StatusWords


class StatusBoard:
    """What the UI last showed for each site, for observers outside the UI (the demo sites).

    The UI publishes what it shows (:meth:`publish`); listeners are called with the site on
    the publisher's thread and must hop to their own. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._shown: dict[str, Shown] = {}
        self._listeners: list[Callable[[str], None]] = []

    def get(self, site: str) -> Shown | None:
        with self._lock:
            return self._shown.get(site)

    def publish(self, site: str, shown: Shown) -> None:
        with self._lock:
            if self._shown.get(site) == shown:
                return
            self._shown[site] = shown
            listeners = list(self._listeners)
        for listener in listeners:
            listener(site)

    def subscribe(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Call ``listener(site)`` whenever what a site shows changes; returns unsubscribe."""
        with self._lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._lock:
                if listener in self._listeners:
                    self._listeners.remove(listener)

        return unsubscribe


__all__ = [
    "REFUSALS_SHOWN",
    "STREAMING_WINDOW",
    "Cause",
    "Fix",
    "Inattention",
    "PageFacts",
    "Shown",
    "SiteStatus",
    "StatusBoard",
    "StatusWords",
    "WalletFacts",
    "describe",
    "site_status",
    "when_text",
]
