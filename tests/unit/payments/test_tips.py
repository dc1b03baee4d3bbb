"""Tips: a one-time amount split across the page's monetization links, bounded by the budgets,
recorded in history as a tip, and never sent to a link that is not being paid (a ``disabled``
link's session is stopped by the page: web-monetization-extension#449). Against the sandbox's
Open Payments server (TLS, OpenAPI-checked) and a real wallet service on SQLite."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from tests.unit.payments.test_links import SITE, Seen, World, run, world
from wallet.budgets import Asset, SitePolicy
from wallet.payments import DocumentHandle
from wallet.payments.links import LinkSession
from wallet.payments.tips import NoOneToTipError, TipDoesNotFitError, split_tip
from wallet.sandbox.op_ledger import StreamServerBackend
from wallet.store.payees import PayeeKind

USD = Asset("USD", 9)
SLOW = 3_600  # one unit a second: streaming barely moves while a tip is sent


async def connected(*sessions: LinkSession) -> None:
    async with asyncio.timeout(20):
        while any(s.target is None for s in sessions):
            await asyncio.sleep(0.02)


def pay(w: World, handle: DocumentHandle, wallet: str, account: str) -> LinkSession:
    """A link session of ``handle``'s document paying the sandbox wallet ``wallet``."""
    return w.payments.pay_link(
        handle,
        w.sandbox.wallet(wallet),
        w.sandbox.network.account(account),
        Seen(),
        provider="trickle:builtin",
    )


def received_by(w: World, incoming_payment: str | None) -> int:
    assert incoming_payment is not None
    backend = w.sandbox.server.ledger.backend
    assert isinstance(backend, StreamServerBackend)
    return backend.received.get(incoming_payment.rsplit("/", 1)[-1], 0)


def test_split_tip_even_whole_multiples_of_each_minimum_never_dust() -> None:
    assert split_tip(10, [1, 1]) == [5, 5]
    assert split_tip(11, [1, 1, 1]) == [4, 4, 3]
    assert split_tip(11, [2, 1]) == [6, 5]
    assert split_tip(9, [4, 4]) == [4, 4]  # one unit cannot be sent to either: it is not
    assert split_tip(3, [5, 2]) == [0, 2]
    assert split_tip(7, []) == []


def test_a_tip_is_split_across_the_links_and_recorded_as_a_tip(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path, policy=SitePolicy(SITE, rate_per_hour=SLOW)) as w:
            handle = w.payments.document(SITE, attending=True)
            alice = pay(w, handle, "alice", "p1")
            bob = pay(w, handle, "bob", "p2")
            await connected(alice, bob)
            result = await w.payments.tip(SITE, 1_000_000, USD)
            assert [share.amount for share in result.shares] == [500_000, 500_000]
            assert [share.error for share in result.shares] == [None, None]
            assert result.sent == 1_000_000
            names = {share.payee.public_name for share in result.shares}
            assert names == {"Alice's sandbox wallet", "Bob's sandbox wallet"}
            for share in result.shares:
                assert share.payee.kind is PayeeKind.TIP
                assert received_by(w, share.payee.incoming_payment) == share.delivered == 500_000
                # a fresh incoming payment, not the one the page's stream pays
                assert share.payee.incoming_payment not in {
                    alice.target.incoming_payment if alice.target else None,
                    bob.target.incoming_payment if bob.target else None,
                }
            w.service.flush()
            tips = [t for t in w.service.payee_totals(site=SITE) if t.payee.kind is PayeeKind.TIP]
            assert sorted(t.delivered for t in tips) == [500_000, 500_000]
            handle.end()

    run(main)


def test_a_tip_is_bounded_by_the_sites_cap_and_says_so(tmp_path: Path) -> None:
    cap = 1_000_000

    async def main() -> None:
        policy = SitePolicy(SITE, rate_per_hour=SLOW, cap_total=cap)
        async with world(tmp_path, policy=policy) as w:
            handle = w.payments.document(SITE, attending=True)
            session = pay(w, handle, "alice", "p1")
            await connected(session)
            with pytest.raises(TipDoesNotFitError) as refused:
                await w.payments.tip(SITE, 2_000_000, USD)
            assert str(refused.value).startswith(
                "The tip does not fit: this site's total cap leaves room for "
            )
            assert str(refused.value).endswith(", not 2000000 units.")
            sent_before = w.history()[0]
            assert sent_before < 10  # the refused tip sent nothing
            result = await w.payments.tip(SITE, 600_000, USD)
            assert result.sent == 600_000
            with pytest.raises(TipDoesNotFitError):
                await w.payments.tip(SITE, 600_000, USD)  # only ~400 000 is left under the cap
            sent, delivered, _ = w.history()
            assert sent <= cap and delivered >= 600_000
            handle.end()

    run(main)


def test_a_link_that_is_not_paid_gets_no_tip(tmp_path: Path) -> None:
    async def main() -> None:
        async with world(tmp_path, policy=SitePolicy(SITE, rate_per_hour=SLOW)) as w:
            handle = w.payments.document(SITE, attending=True)
            with pytest.raises(NoOneToTipError):
                await w.payments.tip(SITE, 1_000, USD)
            alice = pay(w, handle, "alice", "p1")
            bob = pay(w, handle, "bob", "p2")
            await connected(alice, bob)
            bob.stop()  # the page disabled bob's link: its session ends
            await asyncio.wait_for(asyncio.shield(bob.task), 10)
            result = await w.payments.tip(SITE, 300_000, USD)
            (share,) = result.shares
            assert share.payee.public_name == "Alice's sandbox wallet" and share.sent == 300_000
            handle.end()

    run(main)


def test_a_tip_reaches_the_page_while_the_dialog_has_the_focus_once_per_receiver(
    tmp_path: Path,
) -> None:
    async def main() -> None:
        async with world(tmp_path, policy=SitePolicy(SITE, rate_per_hour=SLOW)) as w:
            href = w.sandbox.wallet("alice")
            tabs = [w.payments.document(SITE, attending=False) for _ in range(2)]
            sessions = [
                w.payments.pay_link(
                    tab,
                    href,
                    w.sandbox.network.account(f"p{i}"),
                    Seen(),
                    provider="trickle:builtin",
                )
                for i, tab in enumerate(tabs)
            ]
            await connected(*sessions)
            # The window lost the focus to the tip dialog: no document is attended now.
            result = await w.payments.tip(SITE, 200_000, USD)
            (share,) = result.shares  # two tabs of the same receiver: one share
            assert share.sent == 200_000
            for tab in tabs:
                tab.end()

    run(main)
