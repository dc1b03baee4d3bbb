"""Tips: a one-time amount the user sends to the page's monetization links.

"Send a tip" (the site popover) asks :meth:`wallet.payments.layer.Payments.tip`, which:

1. takes the live link sessions of the site's attended document (the page the user looks at);
   a ``disabled`` link has no session, so it gets nothing (web-monetization-extension#449);
2. checks that the whole tip fits the site's caps and the global budget
   (:meth:`~wallet.service.WalletService.tip_room`) and says which limit when it does not:
   nothing is sent then;
3. splits it evenly across the links, each share a whole multiple of that receiver's learnt
   minimum (:func:`split_tip`; what cannot be split that way is not sent, never dust);
4. pays each share over a connection of its own, to fresh credentials (a new incoming payment,
   or a new SPSP answer: two STREAM connections never share credentials), through the
   session's ILP path, every packet reserved by :class:`TipGate` — the caps, the global budget,
   the balance and the outcome table apply as to any payment; only accrued viewing time does
   not, a tip being the user's explicit choice;
5. records each share's connection in history as a ``tip`` (:mod:`wallet.store.payees`).

Wallet loop only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from wallet.budgets import Asset, Decision, Reason
from wallet.errors import WalletError
from wallet.ledger import Refusal, Reservation
from wallet.payments.draft4 import (
    close_sending_nothing_more,
    learn_destination_asset,
    start_gated_connection,
)
from wallet.payments.errors import PaymentError
from wallet.payments.gate import Budget, PacketGate
from wallet.payments.link_targets import payee_of
from wallet.payments.links import LinkSession, TipPath, record_in_background
from wallet.store.payees import PayeeKind, PayeeRecord

__all__ = [
    "NoOneToTipError",
    "TipBudget",
    "TipDoesNotFitError",
    "TipError",
    "TipGate",
    "TipResult",
    "TipShare",
    "send_tip",
    "split_tip",
]

TIP_TIMEOUT = 30.0
CLOSE_TIMEOUT = 5.0

# What the user reads when a limit leaves no room for the tip.
LIMIT_WORDS = {
    Reason.PAUSED: "payments to this site are paused",
    Reason.BLOCKED: "this site is blocked",
    Reason.DISABLED: "Web Monetization is switched off",
    Reason.DAY_CAP: "this site's cap for today",
    Reason.MONTH_CAP: "this site's cap for this month",
    Reason.TOTAL_CAP: "this site's total cap",
    Reason.GLOBAL_BUDGET: "your monthly budget",
    Reason.BALANCE: "your wallet balance",
}


class TipError(PaymentError):
    """A tip could not be sent (the message says why, for the user)."""


class TipDoesNotFitError(TipError):
    """The tip is more than the site's caps or the global budget leave."""


class NoOneToTipError(TipError):
    """The page has no monetization link that is being paid (none, or all disabled)."""


class TipBudget(Budget, Protocol):
    """What a tip needs of the wallet service (``WalletService`` fits)."""

    def tip_room(self, site: str, asset: Asset, want: int) -> Decision: ...

    def reserve_tip(
        self,
        site: str,
        provider: str,
        asset: Asset,
        amount: int,
        *,
        min_amount: int | None = None,
        account_id: int | None = None,
        connection: str = "",
        quantum: int = 1,
    ) -> Reservation | Refusal: ...


@dataclass(frozen=True)
class TipShare:
    """What one link's receiver got of a tip."""

    payee: PayeeRecord
    amount: int
    sent: int
    delivered: int
    error: str | None = None


@dataclass(frozen=True)
class TipResult:
    """The whole tip: ``amount`` asked, per-link shares, in the payer's ``asset``."""

    amount: int
    asset: Asset
    shares: tuple[TipShare, ...]

    @property
    def sent(self) -> int:
        return sum(share.sent for share in self.shares)


class _TipPayer:
    """The document a tip is for: it pays whether or not the window has focus (the user just
    confirmed it), never through a provider that lied to the document."""

    def __init__(self, path: TipPath) -> None:
        self._doc = path.doc

    @property
    def site(self) -> str:
        return self._doc.site

    def may_pay(self, provider: str) -> bool:
        return not self._doc.provider_failing(provider)

    def provider_failing(self, provider: str) -> bool:
        return self._doc.provider_failing(provider)

    def mark_provider_failing(self, provider: str) -> None:
        self._doc.mark_provider_failing(provider)

    def wait_for_change(self, wake: object) -> None:
        pass

    def stop_waiting(self, wake: object) -> None:
        pass


class TipGate(PacketGate):
    """A packet gate whose packets are reserved as a tip (see the module docstring)."""

    def __init__(self, budget: TipBudget, path: TipPath, loop: asyncio.AbstractEventLoop) -> None:
        super().__init__(
            budget,
            _TipPayer(path),
            loop=loop,
            provider=path.provider,
            account_id=path.account_id,
            pace=0.0,
            has_activity=False,
        )
        self._reserve_packet = budget.reserve_tip


def split_tip(amount: int, minimums: Sequence[int]) -> list[int]:
    """``amount`` split evenly across receivers, each share a whole multiple of its receiver's
    minimum; what remains is handed out a minimum at a time, first receivers first, while it
    fits (the rest is not sent)."""
    n = len(minimums)
    if n == 0:
        return []
    shares = []
    for i, minimum in enumerate(minimums):
        even = amount // n + (1 if i < amount % n else 0)
        shares.append(even - even % minimum)
    left = amount - sum(shares)
    while True:
        grew = False
        for i, minimum in enumerate(minimums):
            if minimum <= left:
                shares[i] += minimum
                left -= minimum
                grew = True
        if not grew:
            return shares


def room_words(
    decision: Decision, asked: int, money: Callable[[int], str] = lambda n: f"{n} units"
) -> str:
    """Why a tip of ``asked`` does not fit, for the user (``money`` writes an amount)."""
    limit = LIMIT_WORDS.get(decision.binding or decision.reason or Reason.BALANCE, "a limit")
    if decision.amount <= 0:
        return f"The tip does not fit: {limit} leaves nothing to send."
    return (
        f"The tip does not fit: {limit} leaves room for {money(decision.amount)}, "
        f"not {money(asked)}."
    )


async def send_tip(
    budget: TipBudget,
    sessions: Sequence[LinkSession],
    amount: int,
    asset: Asset,
    *,
    site: str,
    timeout: float = TIP_TIMEOUT,
) -> TipResult:
    """Pay ``amount`` of ``asset`` across ``sessions`` (see the module docstring).

    Raises:
        NoOneToTipError: no session to tip.
        TipDoesNotFitError: the caps or the global budget leave less than ``amount``.
        TipError: the tip is in another asset than the payment path's.
    """
    if not sessions:
        raise NoOneToTipError(
            "This page has no monetization link that is being paid: there is no one to tip."
        )
    if amount <= 0:
        raise TipError("A tip must be more than nothing.")
    room = budget.tip_room(site, asset, amount)
    if room.amount < amount:
        raise TipDoesNotFitError(room_words(room, amount))
    paths = [await session.tip_path() for session in sessions]
    if any(path.asset != asset for path in paths):
        raise TipError(f"Tips are sent in the payment path's currency ({paths[0].asset.code}).")
    shares = split_tip(amount, [path.minimum.minimum for path in paths])
    if not any(shares):
        raise TipError("The tip is smaller than what these receivers take.")
    results = await asyncio.gather(
        *(
            _pay_share(budget, path, share, timeout)
            for path, share in zip(paths, shares, strict=True)
        )
    )
    return TipResult(amount, asset, tuple(results))


async def _pay_share(budget: TipBudget, path: TipPath, amount: int, timeout: float) -> TipShare:
    """One link's share over a connection of its own (fresh credentials)."""
    payee = PayeeRecord(path.doc.site, "", path.href, PayeeKind.TIP)
    if amount <= 0:
        return TipShare(payee, 0, 0, 0, "below what this receiver takes")
    loop = asyncio.get_running_loop()
    try:
        target = await asyncio.wait_for(path.resolver.resolve(path.href), timeout)
    except (WalletError, TimeoutError) as e:
        return TipShare(payee, amount, 0, 0, str(e) or "its wallet did not answer in time")
    gate = TipGate(budget, path, loop)
    gate.minimum = path.minimum
    api, _driver = start_gated_connection(
        path.link,
        path.router,
        gate,
        address=path.address,
        asset=path.asset,
        destination_account=target.destination_account,
        shared_secret=target.shared_secret,
        template=path.template,
    )
    payee = payee_of(target, path.doc.site, api.source_account or "", PayeeKind.TIP)
    error: str | None = None
    recorded: asyncio.Future[None] | None = None
    try:
        async with asyncio.timeout(timeout):
            await api.connected
            learn_destination_asset(api, gate)
            recorded = record_in_background(path.payees, payee)
            stream = api.create_stream()
            sending = asyncio.ensure_future(stream.send_total(amount))
            await asyncio.wait({sending, gate.capped}, return_when=asyncio.FIRST_COMPLETED)
            if not sending.done():
                sending.cancel()
                error = f"a limit stopped it ({gate.refusal})"
            elif sending.exception() is not None:
                error = str(sending.exception())
    except TimeoutError:
        error = "it did not go through in time"
    except WalletError as e:
        error = str(e)
    finally:
        gate.close()
        await close_sending_nothing_more(api)
    if recorded is not None:
        await asyncio.wait({recorded}, timeout=CLOSE_TIMEOUT)
    return TipShare(payee, amount, api.total_sent, api.total_delivered, error)
