"""Link tags paid from the user's connected Open Payments wallet, against the sandbox's wallet
server (grants with a consent page, quotes, outgoing payments that really move money over
STREAM to the site's incoming payment; every exchange checked against the official OpenAPI
files), a real wallet service on a SQLite file and the real payment layer: each outgoing
payment is reserved, then committed when the wallet says it completed; what the site's
incoming payment received = Trickle's history = the sum of the page's ``monetization`` events
= what the user's wallet was debited; caps and the grant's limit stop it exactly."""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Coroutine
from pathlib import Path

from aiohttp import web
from aiohttp.typedefs import Handler

from tests.funding_support import FAST, SITE, FundingWorld, Page, funding_world
from wallet.budgets import Asset, SitePolicy
from wallet.funding import FundingSource
from wallet.payments.op_errors import GrantUsedUpError
from wallet.payments.op_sessions import OpLinkSession
from wallet.sandbox.op_payer import SendingFee

WAIT = 30.0


def run(main: Callable[[], Coroutine[object, object, None]]) -> None:
    asyncio.run(asyncio.wait_for(main(), 120))


async def stopped(session: object) -> None:
    assert isinstance(session, OpLinkSession)
    await asyncio.wait_for(asyncio.shield(session.task), WAIT)


def counts_agree(w: FundingWorld, page: Page) -> int:
    (target,) = {p.incoming_payment for p in page.payments}
    assert target is not None
    sent, delivered, unresolved = w.history()
    assert unresolved == 0
    assert w.received(target) == delivered == page.sent == sent == w.debited() > 0
    return sent


def test_a_link_is_paid_from_the_connected_wallet_and_every_count_agrees(tmp_path: Path) -> None:
    async def main() -> None:
        async with funding_world(tmp_path) as w:
            wallet = await w.connect(budget=10**10)
            assert w.funding.source() is FundingSource.OPEN_PAYMENTS
            assert w.funding.paying_wallet() is wallet
            _, session, page = w.pay(w.wallet("alice"))
            await page.until(lambda: len(page.payments) >= 3)
            session.stop()
            await stopped(session)
            assert page.stops == [None] and page.errors == []
            (target,) = page.loads
            assert all(p.incoming_payment == target.incoming_payment for p in page.payments)
            assert {p.asset for p in page.payments} == {Asset("USD", 9)}
            counts_agree(w, page)
            # history is under the wallet address, as any provider's
            totals = w.service.site_totals(site=SITE, provider=w.wallet("user"))
            assert sum(t.sent for t in totals) == page.sent

    run(main)


def test_a_site_cap_holds_payment_exactly_at_the_cap_and_a_raise_resumes_it(
    tmp_path: Path,
) -> None:
    cap = 1_234_567

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST // 1000, cap_total=cap)
        async with funding_world(tmp_path, policy=policy) as w:
            await w.connect(budget=10**10)
            _, session, page = w.pay(w.wallet("alice"))
            assert isinstance(session, OpLinkSession)
            await page.until(lambda: session.held)
            assert page.stops == [] and page.errors == []  # held, not ended
            assert counts_agree(w, page) == cap
            paid = len(page.payments)
            assert paid >= 2
            await asyncio.sleep(0.3)  # held: no payment, no event
            assert len(page.payments) == paid and counts_agree(w, page) == cap
            w.service.set_site_policy(
                SitePolicy(SITE, rate_per_hour=FAST // 1000, cap_total=2 * cap)
            )
            await page.until(lambda: len(page.payments) > paid and session.held)
            assert counts_agree(w, page) == 2 * cap
            session.stop()
            await stopped(session)
            assert page.stops == [None]

    run(main)


def test_the_grants_limit_stops_payment_exactly_with_words(tmp_path: Path) -> None:
    budget = 2_345_678

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST // 1000)
        async with funding_world(tmp_path, policy=policy) as w:
            wallet = await w.connect(budget=budget)
            _, session, page = w.pay(w.wallet("alice"))
            await stopped(session)
            (reason,) = page.stops
            assert isinstance(reason, GrantUsedUpError), reason
            assert "your wallet's budget for trickle is used up" in str(reason).lower()
            assert counts_agree(w, page) == budget
            status = w.funding.status()
            assert status.problem == str(reason) and status.reconnect
            assert status.budget is not None and status.budget.left == 0
            # The wallet agrees: its grant spent exactly that.
            await wallet.refresh_spent(force=True)
            assert wallet.budget().wallet_spent == budget
            # A new session on another page stops at once, with the same words.
            _, again, page2 = w.pay(w.wallet("bob"), site="https://other.example")
            await stopped(again)
            assert page2.payments == [] and isinstance(page2.stops[0], GrantUsedUpError)

    run(main)


class Outage:
    """The wallet server "dies" after carrying out a request: while ``down``, each request to
    create an outgoing payment is carried out but its answer is lost (the connection drops)
    — the worst case for counting."""

    def __init__(self) -> None:
        self.down = False
        self.lost = 0

    @web.middleware
    async def middleware(self, request: web.Request, handler: Handler) -> web.StreamResponse:
        if not self.down or not request.path.endswith("/outgoing-payments"):
            return await handler(request)
        await handler(request)
        self.lost += 1
        assert request.transport is not None
        request.transport.close()
        raise ConnectionResetError("the wallet server went away")


async def quick(seconds: float) -> None:
    await asyncio.sleep(min(seconds, 0.1))


def test_the_wallet_server_stopping_mid_session_loses_nothing_and_payment_resumes(
    tmp_path: Path,
) -> None:
    outage = Outage()

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST // 1000)
        async with funding_world(
            tmp_path,
            policy=policy,
            middlewares=(outage.middleware,),
            sleep=quick,
            check_openapi=False,
        ) as w:
            wallet = await w.connect(budget=10**12)
            _, session, page = w.pay(w.wallet("alice"))
            await page.until(lambda: len(page.payments) >= 2)
            outage.down = True
            await page.until(lambda: outage.lost >= 2)
            told_while_down = len(page.payments)
            status = w.funding.status()
            assert status.trouble is not None and "does not answer" in status.trouble
            assert page.stops == []  # not given up
            outage.down = False
            await page.until(lambda: len(page.payments) >= told_while_down + 2)
            assert w.funding.status().trouble is None
            session.stop()
            await stopped(session)
            sent, delivered, unresolved = w.history()
            (target,) = page.loads
            assert target.incoming_payment is not None
            received = w.received(target.incoming_payment)
            # Nothing lost: every unit that left the wallet is counted as spent (the lost
            # answers as "unresolved", charged), and the site got what the wallet paid.
            assert sent == delivered == page.sent
            assert unresolved > 0 and sent + unresolved == w.debited() == received
            assert wallet.problem is None

    run(main)


def test_payments_are_never_below_the_receivers_minimum_learnt_by_quoting(tmp_path: Path) -> None:
    minimum = 777_777

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST // 1000)  # a pace period accrues < min
        async with funding_world(tmp_path, policy=policy, min_send_amount=minimum) as w:
            wallet = await w.connect(budget=10**12)
            _, session, page = w.pay(w.wallet("alice"))
            await page.until(lambda: len(page.payments) >= 2)
            session.stop()
            await stopped(session)
            assert all(p.amount >= minimum for p in page.payments), page.payments
            (target,) = page.loads
            assert target.incoming_payment is not None
            assert await wallet.min_send(target.incoming_payment) == minimum  # learnt, kept
            counts_agree(w, page)

    run(main)


def test_a_wallet_without_enough_money_says_so_and_goes_on_when_money_comes(
    tmp_path: Path,
) -> None:
    balance = 3_000_000

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST // 1000)
        async with funding_world(tmp_path, policy=policy, user_balance=balance, sleep=quick) as w:
            await w.connect(budget=10**12)
            _, session, page = w.pay(w.wallet("alice"))
            await page.until(lambda: w.funding.status().problem is not None)
            status = w.funding.status()
            assert status.problem is not None and "does not have enough money" in status.problem
            assert not status.reconnect  # the fix is money, not a new grant
            assert page.stops == []  # waiting, not given up
            told = page.sent
            # The refused payments were given back; what went through is counted exactly.
            assert w.history() == (told, told, 0) and told == w.debited(balance=balance)
            w.server.payer.fund(w.server.ledger.wallets[w.wallet("user")], 10**9)  # type: ignore[union-attr]
            await page.until(lambda: page.sent > told)
            assert w.funding.status().problem is None
            session.stop()
            await stopped(session)
            sent, delivered, unresolved = w.history()
            assert unresolved == 0 and sent == delivered == page.sent
            assert sent == w.debited(balance=balance + 10**9)

    run(main)


def test_the_incoming_payment_is_replaced_before_it_expires(tmp_path: Path) -> None:
    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST // 1000)
        # Incoming payments of 61.5 s: the next one is due 1.5 s after the first (a minute
        # before it ends).
        lifetime = dt.timedelta(seconds=61.5)
        async with funding_world(tmp_path, policy=policy, incoming_lifetime=lifetime) as w:
            await w.connect(budget=10**12)
            _, session, page = w.pay(w.wallet("alice"))
            await page.until(lambda: len({p.incoming_payment for p in page.payments}) == 2)
            session.stop()
            await stopped(session)
            assert page.stops == [None]
            incoming = {p.incoming_payment for p in page.payments}
            received = sum(w.received(i) for i in incoming if i is not None)
            sent, delivered, unresolved = w.history()
            assert unresolved == 0
            assert received == delivered == page.sent == sent == w.debited()

    run(main)


def test_a_wallet_fee_out_of_the_debit_amount_still_completes_each_payment(
    tmp_path: Path,
) -> None:
    """Rafiki takes its operator's fee out of ``debitAmount``: a completed payment sent less
    than it debited. Each is still seen to complete (no payment waits for a ``sentAmount``
    that never comes); history's sent = what the wallet debited, fee included; delivered =
    what the site received = the events."""

    async def main() -> None:
        async with funding_world(tmp_path) as w:
            assert w.server.payer is not None
            w.server.payer.fee = SendingFee(fixed=1_000, basis_points=50)
            await w.connect(budget=10**12)
            _, session, page = w.pay(w.wallet("alice"))
            await page.until(lambda: len(page.payments) >= 3)
            session.stop()
            await stopped(session)
            assert page.stops == [None]
            (target,) = page.loads
            assert target.incoming_payment is not None
            sent, delivered, unresolved = w.history()
            assert unresolved == 0
            assert sent == w.debited()  # fee included
            assert delivered == w.received(target.incoming_payment) == page.sent
            fees = sum(p.fee for p in w.server.payer.outgoing.values())
            assert fees > 0 and sent - delivered == fees
            assert all(
                not p.failed and p.sent == p.debit - p.fee for p in w.server.payer.outgoing.values()
            )

    run(main)


def test_a_payment_failing_part_way_is_charged_what_it_sent_and_no_more(tmp_path: Path) -> None:
    """The wallet reports ``failed`` with ``sentAmount`` between 0 and ``debitAmount``: what
    was sent is committed, the rest released, in one step; history = what the wallet
    debited; nothing is left unresolved."""

    async def main() -> None:
        async with funding_world(tmp_path) as w:
            assert w.server.payer is not None
            w.server.payer.fail_after = 1_000
            await w.connect(budget=10**12)
            _, session, page = w.pay(w.wallet("alice"))
            await stopped(session)  # three failures in a row stop it, with words
            (reason,) = page.stops
            assert reason is not None and "only part" in str(reason)
            payments = list(w.server.payer.outgoing.values())
            assert len(payments) == 3
            assert all(p.failed and 0 < p.sent == 1_000 < p.debit for p in payments)
            sent, delivered, unresolved = w.history()
            assert (sent, unresolved) == (3_000, 0)
            assert sent == w.debited()
            assert delivered == page.sent == 0  # nothing Trickle can vouch for arrived
            (target,) = page.loads
            assert target.incoming_payment is not None
            assert w.received(target.incoming_payment) == 3_000
            # the released rest is budget again: the site's cap counts only what was sent
            assert w.service.site_totals(site=SITE)[0].sent == 3_000

    run(main)


def test_payments_are_whole_multiples_of_the_receivers_minimum(tmp_path: Path) -> None:
    """As the link-tag path sends packets: each payment is a whole number of the receiver's
    learnt minimum, never the minimum plus dust."""
    minimum = 123_457

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=FAST // 100)  # much more than a minimum accrues
        async with funding_world(tmp_path, policy=policy, min_send_amount=minimum) as w:
            await w.connect(budget=10**12)
            _, session, page = w.pay(w.wallet("alice"))
            await page.until(lambda: len(page.payments) >= 3)
            session.stop()
            await stopped(session)
            assert w.server.payer is not None
            debits = [p.debit for p in w.server.payer.outgoing.values()]
            assert debits and all(d % minimum == 0 for d in debits), debits
            assert any(d > minimum for d in debits), debits  # more than one minimum accrued
            counts_agree(w, page)

    run(main)
