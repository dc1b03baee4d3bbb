"""``monetize({destinationAccount, sharedSecret})`` argument rules and the per-tab budget gate.

Argument rules: both strings (``TypeError``); ``destinationAccount`` a valid ILP address (RFC 15,
``InvalidAddressError``); ``sharedSecret`` standard base64 (padding optional, base64url accepted)
of exactly 32 bytes (``InvalidSharedSecretError``). The secret is held in memory only.

What a page observes at a budget limit (decided; the STREAM driver implements it against
``ConnectionGate``):

* Tab hidden or window unfocused, site paused, or nothing accrued yet (``Reason.NO_ACCRUAL`` /
  ``PAUSED``) → sending **pauses**: streams stay open, ``setSendMax`` resolves, a pending
  ``sendTotal`` stays pending (or rejects with ``TimeoutError`` if the page gave a timeout), no
  ``outgoing_money`` fires; it resumes by itself.
* A limit reached (day/month/total cap, global budget, balance, blocked, disabled) → pending
  and later ``sendTotal`` calls reject with ``BudgetExceededError``; the stream and connection
  stay open, ``totalSent`` stays at what was actually fulfilled. ``setSendMax(2^64−1)`` is
  accepted and never spends more than the wallet approves, packet by packet.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import re
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ui.webmonetization.errors import PageError
from ui.webmonetization.protocols import BudgetGate
from wallet.budgets import Asset, Reason
from wallet.ilp import U64_MAX, is_valid_address
from wallet.ledger import Refusal, Reservation
from wallet.stream import Outcome

SHARED_SECRET_BYTES = 32
_B64 = re.compile(r"[A-Za-z0-9+/_-]{43}=?")


@dataclass(frozen=True, slots=True)
class MonetizeRequest:
    destination_account: str
    shared_secret: bytes

    def __repr__(self) -> str:  # never print the secret
        return f"MonetizeRequest(destination_account={self.destination_account!r}, ...)"


def validate_monetize(args: object) -> MonetizeRequest:
    if not isinstance(args, dict):
        raise PageError(
            "TypeError", "monetize() takes {destinationAccount: string, sharedSecret: string}"
        )
    dest = args.get("destinationAccount")
    secret = args.get("sharedSecret")
    if not isinstance(dest, str) or not isinstance(secret, str):
        raise PageError(
            "TypeError", "monetize(): destinationAccount and sharedSecret must be strings"
        )
    if not is_valid_address(dest):
        raise PageError("InvalidAddressError", "destinationAccount is not a valid ILP address")
    if not _B64.fullmatch(secret):
        raise PageError("InvalidSharedSecretError", "sharedSecret must be base64 of 32 bytes")
    try:
        raw = base64.b64decode(secret.replace("-", "+").replace("_", "/").rstrip("=") + "=")
    except (binascii.Error, ValueError) as e:
        raise PageError(
            "InvalidSharedSecretError", "sharedSecret must be base64 of 32 bytes"
        ) from e
    if len(raw) != SHARED_SECRET_BYTES:
        raise PageError("InvalidSharedSecretError", "sharedSecret must be base64 of 32 bytes")
    return MonetizeRequest(dest, raw)


def parse_amount(value: object) -> int:
    """A page amount: a decimal string of a UInt64."""
    if not isinstance(value, str) or not value.isascii() or not value.isdigit() or len(value) > 20:
        raise PageError("TypeError", "amount must be a string of decimal digits")
    amount = int(value)
    if amount > U64_MAX:
        raise PageError("RangeError", "amount exceeds the UInt64 maximum")
    return amount


def parse_timeout(value: object) -> float | None:
    """A page timeout in ms → seconds."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float) or not 0 <= value < 1e12:
        raise PageError("TypeError", "timeout must be a non-negative number of milliseconds")
    return float(value) / 1000.0


class BudgetExceeded(PageError):
    """The wallet refused for good (a cap, the global budget, the balance, blocked)."""

    js_name = "BudgetExceededError"

    def __init__(self, reason: str = "") -> None:
        detail = f" ({reason})" if reason else ""
        super().__init__(
            "BudgetExceededError", f"the spending limit for this site is reached{detail}"
        )


# Only where nothing tells a refused tab when to ask again (no SiteActivity: tests, tools).
RETRY_SECONDS = 0.5
# While the rate of pay (not the page) limits a connection, at most one packet per this long:
# each packet then carries this long of accrued pay, instead of thousands of dust packets a
# second (which would burn a core for the same money). 2 s, as the Interledger Foundation's Web
# Monetization extension (``MIN_PAYMENT_WAIT = 2000`` ms between continuous payments): still
# live to the eye, and half the wake-ups, database work and page redraws of 1 s.
PACE_SECONDS = 2.0
# Refusals that mean "not now" (sending pauses); any other reason means "no more".
_NOT_NOW = frozenset({Reason.NO_ACCRUAL, Reason.PAUSED})


class SiteActivity:
    """Counts, per site origin, the visible tabs with a live connection, and tells the wallet
    (``BudgetGate.set_site_active``) when a site starts or stops accruing (GUI thread).

    Also wakes the tabs the wallet refused "not now" when their site may pay again
    (``BudgetGate.site_listeners``): a paused site, or one not accruing, costs nothing until
    then. The waiting list is the wallet loop's.
    """

    def __init__(self, budget: BudgetGate | None, loop: asyncio.AbstractEventLoop) -> None:
        self._budget = budget
        self._loop = loop
        self._active: dict[str, int] = {}
        self._waiting: dict[str, list[Callable[[], None]]] = {}
        if budget is not None:
            budget.site_listeners.append(self._site_changed)

    def wait(self, origin: str, wake: Callable[[], None]) -> None:
        """Call ``wake`` once, when ``origin`` may be able to pay again. Wallet loop."""
        waiting = self._waiting.setdefault(origin, [])
        if wake not in waiting:
            waiting.append(wake)

    def stop_waiting(self, origin: str, wake: Callable[[], None]) -> None:
        """Forget ``wake`` (its page is gone). Wallet loop."""
        waiting = self._waiting.get(origin)
        if waiting is not None and wake in waiting:
            waiting.remove(wake)
            if not waiting:
                del self._waiting[origin]

    def _site_changed(self, site: str | None) -> None:
        self._loop.call_soon_threadsafe(self._wake_waiting, site)

    def _wake_waiting(self, site: str | None) -> None:
        if site is None:
            woken = [wake for wakes in self._waiting.values() for wake in wakes]
            self._waiting.clear()
        else:
            woken = self._waiting.pop(site, [])
        for wake in woken:
            wake()

    def change(self, origin: str, delta: int) -> None:
        before = self._active.get(origin, 0)
        after = max(0, before + delta)
        if after:
            self._active[origin] = after
        else:
            self._active.pop(origin, None)
        if (before > 0) != (after > 0) and self._budget is not None:
            self._loop.call_soon_threadsafe(self._budget.set_site_active, origin, after > 0)


class TabGate:
    """A ``ConnectionGate``: the wallet's ``BudgetGate`` for one origin, this tab's visibility
    and this document's life. Revoked for good when the document goes away, so a connection
    that outlives its page can never reserve again.

    ``set_visible``/``revoke`` run on the GUI thread; the ``wallet.stream.BudgetGate`` methods
    on the wallet loop (the STREAM core calls them synchronously).
    """

    def __init__(
        self,
        budget: BudgetGate | None,
        origin: str,
        *,
        loop: asyncio.AbstractEventLoop,
        visible: bool,
        activity: SiteActivity | None = None,
        provider: str = "",
        pace: float = PACE_SECONDS,
    ) -> None:
        self._budget = budget
        self._origin = origin
        self._provider = provider
        self._account_id: int | None = None
        self._dest_asset: Asset | None = None
        self._paced_until = 0.0
        self._pace = pace
        self._loop = loop
        self._activity = activity
        self._lock = threading.Lock()
        self._visible = visible
        self._revoked = False
        self._counted = False
        self._asset: Asset | None = None
        self._connection = ""
        self._reservations: dict[int, Reservation] = {}
        self._capped: asyncio.Future[None] | None = None
        self._waker: Callable[[], None] | None = None
        self._retry: asyncio.TimerHandle | None = None
        self._wake_on_settle = False  # refused while packets were in flight
        self.refusal: Reason | None = None

    @property
    def origin(self) -> str:
        return self._origin

    @property
    def capped(self) -> asyncio.Future[None]:
        if self._capped is None:
            self._capped = self._loop.create_future()
        return self._capped

    # -- GUI thread --

    def start(self) -> None:
        """The page received the connection: count the tab for accrual while visible."""
        with self._lock:
            self._counted = True
            visible = self._visible and not self._revoked
        if visible and self._activity is not None:
            self._activity.change(self._origin, +1)

    def set_visible(self, visible: bool) -> None:
        with self._lock:
            changed = visible != self._visible and not self._revoked
            self._visible = visible
            counted = self._counted
        if changed and counted and self._activity is not None:
            self._activity.change(self._origin, +1 if visible else -1)
        if changed and visible:
            self._loop.call_soon_threadsafe(self._wake)

    def revoke(self) -> None:
        with self._lock:
            was_active = self._counted and self._visible and not self._revoked
            self._revoked = True
        if self._activity is not None:
            if was_active:
                self._activity.change(self._origin, -1)
            self._loop.call_soon_threadsafe(self._activity.stop_waiting, self._origin, self._wake)

    @property
    def revoked(self) -> bool:
        with self._lock:
            return self._revoked

    def may_send_now(self) -> bool:
        with self._lock:
            return self._visible and not self._revoked and self._budget is not None

    # -- wallet loop: wallet.stream.BudgetGate --

    def set_provider(self, provider: str) -> None:
        """The handler URL the money goes through (attributed in history)."""
        self._provider = provider

    def set_account(self, account_id: int | None) -> None:
        """The local account whose balance pays (the built-in provider), or None."""
        self._account_id = account_id

    def bind_asset(self, asset: Asset, connection: str) -> None:
        self._asset = asset
        self._connection = connection

    def set_waker(self, wake: Callable[[], None]) -> None:
        """How to make the STREAM connection ask again (after a "not now")."""
        self._waker = wake

    def _wake(self) -> None:
        if self._retry is not None:
            self._retry.cancel()
            self._retry = None
        if self._waker is not None and not self.revoked:
            self._waker()

    def _retry_later(self, delay: float) -> None:
        if self._retry is not None and self._retry.when() <= self._loop.time() + delay:
            return
        if self._retry is not None:
            self._retry.cancel()
        self._retry = self._loop.call_later(delay, self._wake)

    def _wait_for_change(self, refusal: Refusal) -> None:
        """Ask again when asking may succeed: after the ``retry_after`` the wallet gave, or when
        the site may pay again (see :class:`SiteActivity`), or when a packet in flight settles.
        Never by polling, unless nothing would say so (no :class:`SiteActivity`)."""
        if refusal.retry_after is not None:
            self._retry_later(refusal.retry_after.total_seconds())
        if self._reservations:
            self._wake_on_settle = True
        if self._activity is not None:
            self._activity.wait(self._origin, self._wake)
        elif refusal.retry_after is None:
            self._retry_later(RETRY_SECONDS)

    def _settled(self) -> None:
        if self._wake_on_settle:
            self._wake_on_settle = False
            self._loop.call_soon(self._wake)

    def reserve(self, packet_id: int, amount: int) -> int:
        if self._asset is None or self._budget is None or not self.may_send_now():
            return 0
        wait = self._paced_until - self._loop.time()
        if wait > 0:
            # The last packet took all that had accrued: wait for more rather than sending a
            # packet for every few microseconds of viewing time (that would burn a core).
            # Ask again exactly when the pause ends, not by polling.
            self._retry_later(wait)
            return 0
        got = self._budget.reserve(
            self._origin,
            self._provider,
            self._asset,
            amount,
            min_amount=1,
            account_id=self._account_id,
            connection=self._connection,
        )
        if isinstance(got, Refusal):
            self.refusal = got.reason
            if got.reason in _NOT_NOW or self._reservations:
                # more accrues with viewing time; or packets in flight may still be released
                self._wait_for_change(got)
            elif not self.capped.done():
                self.capped.set_result(None)
            return 0
        if self.revoked:  # the page went away while we asked
            self._budget.release(got)
            return 0
        self._reservations[packet_id] = got
        if got.amount < amount:  # limited by what has accrued: pace the next packet
            self._paced_until = self._loop.time() + self._pace
        return got.amount

    def set_destination_asset(self, asset: Asset | None) -> None:
        """The receiver's asset (from STREAM), so history records what it says arrived."""
        self._dest_asset = asset

    def settle(self, packet_id: int, amount: int, outcome: Outcome, delivered: int = 0) -> None:
        res = self._reservations.pop(packet_id, None)
        if res is not None and self._budget is not None:
            if outcome is Outcome.FULFILLED:
                self._budget.commit(res, delivered=delivered, dest_asset=self._dest_asset)
            elif outcome.uncertain:
                self._budget.expire(res)  # the receiver may have it: charged, never refunded
            else:
                self._budget.release(res)
        self._settled()
