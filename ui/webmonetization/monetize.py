"""``monetize({destinationAccount, sharedSecret})`` argument rules and the per-tab budget gate.

Argument rules: both strings (``TypeError``); ``destinationAccount`` a valid ILP address (RFC 15,
``InvalidAddressError``); ``sharedSecret`` standard base64 (padding optional, base64url accepted)
of exactly 32 bytes (``InvalidSharedSecretError``). The secret is held in memory only.

What a page observes at a budget limit (decided; the STREAM driver implements it against
``ConnectionGate``):

* Tab hidden or window unfocused, site paused, or allowance momentarily 0 → sending **pauses**:
  streams stay open, ``setSendMax`` resolves, a pending ``sendTotal`` stays pending (or rejects
  with ``TimeoutError`` if the page gave a timeout), no ``outgoing_money`` fires.
* A cap reached (day/month/total/global budget: ``reserve`` → ``None``) → pending and later
  ``sendTotal`` calls reject with ``BudgetExceededError``; the stream stays open, ``totalSent``
  stays at what was actually fulfilled. ``setSendMax(2^64−1)`` is accepted and spends nothing
  beyond the allowance.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import re
import threading
from dataclasses import dataclass

from ui.webmonetization.errors import PageError
from ui.webmonetization.protocols import BudgetGate
from wallet.ilp import U64_MAX, is_valid_address

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
    """The wallet refused a reservation: the site's or the global cap is reached."""

    js_name = "BudgetExceededError"

    def __init__(self) -> None:
        super().__init__("BudgetExceededError", "the spending limit for this site is reached")


class TabGate:
    """A ``ConnectionGate``: the wallet's ``BudgetGate`` for one origin, plus this tab's
    visibility and this document's life. Revoked (for good) when the document goes away, so a
    connection that outlives its page can never reserve again.

    ``set_visible``/``revoke`` are called on the GUI thread; the rest on the wallet loop.
    """

    def __init__(
        self,
        budget: BudgetGate | None,
        origin: str,
        loop: asyncio.AbstractEventLoop,
        visible: bool,
    ) -> None:
        self._budget = budget
        self._origin = origin
        self._loop = loop
        self._lock = threading.Lock()
        self._visible = visible
        self._revoked = False
        self._changed = asyncio.Event()

    @property
    def origin(self) -> str:
        return self._origin

    def set_visible(self, visible: bool) -> None:
        with self._lock:
            self._visible = visible
        self._loop.call_soon_threadsafe(self._changed.set)

    def revoke(self) -> None:
        with self._lock:
            self._revoked = True
        self._loop.call_soon_threadsafe(self._changed.set)

    @property
    def revoked(self) -> bool:
        with self._lock:
            return self._revoked

    def may_send_now(self) -> bool:
        with self._lock:
            if self._revoked or not self._visible:
                return False
        return self._budget is not None and self._budget.may_send_now(self._origin)

    async def wait_until_may_send(self) -> None:
        while not self.may_send_now():
            if self.revoked:
                raise PageError("AbortError", "the page that opened this connection is gone")
            self._changed.clear()
            # wake at least every second to re-check the budget (a new day, a raised cap)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout=1.0)

    async def reserve(self, amount: int) -> str | None:
        """A reservation id; ``None`` = not now (hidden, paused: wait and retry).

        Raises:
            BudgetExceeded: the wallet refused (a cap is reached) — fail ``sendTotal`` with it.
        """
        if self._budget is None or not self.may_send_now():
            return None
        reservation = await self._budget.reserve(self._origin, amount)
        if reservation is None:
            raise BudgetExceeded()
        if self.revoked:  # the page went away while we waited
            await self._budget.release(reservation)
            return None
        return reservation

    async def commit(self, reservation: str) -> None:
        if self._budget is not None:
            await self._budget.commit(reservation)

    async def release(self, reservation: str) -> None:
        if self._budget is not None:
            await self._budget.release(reservation)
