"""A link session that a limit refuses holds (no connection, nothing sent, no event) and
resumes by itself when the limit lifts — a raised cap, a resumed or unblocked site, the day
turning on the wallet's injected clock — against the sandbox's Open Payments server and its
real STREAM receiver, through a real wallet service and SQLite file. At every step the
receiver's own count is what the user allowed at that moment, to the unit."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable
from pathlib import Path

from tests.unit.payments.test_links import FAST, SITE, Seen, World, run, world
from wallet.budgets import SitePolicy, SiteState

CAP = 200_000_000  # a fifth of a second of pay at FAST
QUIET = 0.3  # fifteen pace periods in which a held session may send nothing


def within(w: World, allowed: int) -> Callable[[], bool]:
    """A condition that fails the test at once if the receiver ever counts more than
    ``allowed``, and holds once it counts exactly that."""

    def check() -> bool:
        own, ledger, _ = w.received_in_all()
        assert own <= allowed and ledger <= allowed, (own, ledger, allowed)
        return own == allowed

    return check


async def held_still(w: World, seen: Seen) -> None:
    """While held: no connection, no packet reaches the receiver, no event for the page."""
    before, events = w.received_in_all(), len(seen.payments)
    await asyncio.sleep(QUIET)
    assert w.received_in_all() == before
    assert len(seen.payments) == events


def test_a_capped_link_resumes_when_the_cap_is_raised_and_several_wakes_pay_once(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST, cap_day=CAP)
        async with world(tmp_path, policy=policy) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
            seen, session = paying.seen, paying.session
            await seen.until(lambda: session.held and within(w, CAP)())
            doc = session._doc
            assert not doc.gates  # no connection while held
            await held_still(w, seen)
            assert session.held and seen.stops == [] and seen.errors == []
            _, _, incoming = w.received_in_all()
            # The cap raised, and at the same moment every other kind of wake: one resumption.
            w.service.set_site_policy(SitePolicy(SITE, rate_per_hour=FAST, cap_day=2 * CAP))
            w.service.set_global_policy(w.service.global_policy())
            w.service._site_changed(None)
            w.service._site_changed(SITE)
            await seen.until(lambda: not session.held)
            await seen.until(lambda: session.held and within(w, 2 * CAP)())
            own, ledger, after = w.received_in_all()
            assert after == incoming + 1  # one new incoming payment for one resumption
            sent, delivered, unresolved = w.history()
            assert own == ledger == delivered == seen.sent == 2 * CAP
            assert sent == delivered and unresolved == 0
            # Each event reported what arrived; the page learnt of no stop meanwhile.
            assert seen.stops == [] and len(seen.loads) == 1
            paying.handle.end()
            await paying.stopped()
            assert seen.stops == [None]

    run(main)


def test_a_paused_then_blocked_link_resumes_when_resumed_and_unblocked(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
            seen, session = paying.seen, paying.session
            await seen.until(lambda: len(seen.payments) >= 2)
            for state in (SiteState.PAUSED, SiteState.BLOCKED):
                w.service.set_site_policy(SitePolicy(SITE, state, rate_per_hour=FAST))
                await seen.until(lambda: session.held)
                await asyncio.sleep(0.1)  # what was in flight has landed
                w.service.flush()
                own, ledger, _ = w.received_in_all()
                assert own == ledger == seen.sent == w.history()[1]
                await held_still(w, seen)
                paid = len(seen.payments)
                w.service.set_site_policy(SitePolicy(SITE, rate_per_hour=FAST))
                await seen.until(lambda: len(seen.payments) >= paid + 2)  # noqa: B023
                assert not session.held
            assert seen.stops == [] and seen.errors == []
            paying.session.stop()
            await paying.stopped()
            own, ledger, _ = w.received_in_all()
            assert own == ledger == seen.sent == w.history()[1]

    run(main)


class WalletClock:
    """The wallet's wall clock: real time from a chosen moment, moved on by the test."""

    def __init__(self, start: dt.datetime) -> None:
        self.offset = start - dt.datetime.now(dt.UTC)

    def __call__(self) -> dt.datetime:
        return dt.datetime.now(dt.UTC) + self.offset


def test_a_day_capped_link_resumes_when_the_clock_passes_midnight(tmp_path: Path) -> None:
    clock = WalletClock(dt.datetime(2026, 3, 10, 23, 0, tzinfo=dt.UTC))

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST, cap_day=CAP)
        async with world(tmp_path, policy=policy, wallet_clock=clock) as w:
            paying = w.pay(SITE, w.sandbox.wallet("alice"), Seen())
            seen, session = paying.seen, paying.session
            await seen.until(lambda: session.held and within(w, CAP)())
            # The wallet knows when time alone lifts the cap: its next local midnight.
            assert w.service.refusal_lifts_at(SITE) == dt.datetime(2026, 3, 11, tzinfo=dt.UTC)
            # Told the clock moved, but not past midnight: held still.
            clock.offset += dt.timedelta(minutes=50)
            w.payments.clock_changed()
            await held_still(w, seen)
            assert session.held
            # Past midnight: a new day, a new cap's worth, and no more.
            clock.offset += dt.timedelta(minutes=15)
            w.payments.clock_changed()
            await seen.until(lambda: session.held and within(w, 2 * CAP)())
            assert w.service.site_facts([SITE])[SITE].usage.site_day <= CAP
            own, ledger, _ = w.received_in_all()
            assert own == ledger == seen.sent == w.history()[1] == 2 * CAP
            assert seen.stops == []
            paying.session.stop()
            await paying.stopped()

    run(main)
