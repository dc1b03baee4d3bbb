"""The outcome table of ``wallet.payments.outcomes``, row by row, against a real wallet service
and SQLite file: what each outcome does to the ledger, how held (unverified) rejects are settled
by the receiver's word, a lying provider, and no lump after a stop."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from tests.unit.manual_loop import ManualLoop, WallClock
from wallet.budgets import PACE, Asset, Reason, SitePolicy, SiteState
from wallet.events import BudgetReached
from wallet.payments import HELD_MAX, SETTLEMENT, Payments, Settlement
from wallet.payments.gate import Evidence, PacketGate
from wallet.service import WalletService
from wallet.stream import Outcome

SITE = "https://blog.example"
PROVIDER = "https://provider.example/handler"
USD = Asset("USD", 9)
FAST = 3_600_000_000_000  # 1e9 units a second: accrual never limits these tests


@pytest.fixture
def loop() -> Iterator[ManualLoop]:
    loop = ManualLoop()
    yield loop
    loop.close()


@pytest.fixture
def wallet(tmp_path: Path) -> Iterator[tuple[WalletService, WallClock]]:
    wall = WallClock()
    service = WalletService.open(tmp_path, tz=ZoneInfo("UTC"), clock=wall)
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=FAST))
    yield service, wall
    service.close()


class Session:
    """A document of SITE with one gate, attended; evidence the test sets."""

    def __init__(self, service: WalletService, loop: ManualLoop, wall: WallClock) -> None:
        payments = Payments(service, loop)  # as the app builds it
        self.activity = payments.activity
        self.doc = payments.document(SITE, attending=True).document
        self.evidence: Evidence | None = None
        self.gate = self.new_gate(service, loop)
        for _ in range(3):
            loop.run_due()
        wall.now += timedelta(seconds=5)
        self.ids = iter(range(1, 10**6))

    def new_gate(self, service: WalletService, loop: ManualLoop) -> PacketGate:
        gate = PacketGate(service, self.doc, loop=loop, provider=PROVIDER, pace=0.0)
        gate.bind(USD, "conn")
        gate.set_evidence(lambda: self.evidence)
        self.doc.add_gate(gate)
        return gate

    def send(self, amount: int, outcome: Outcome, delivered: int = 0) -> int:
        packet = next(self.ids)
        got = self.gate.reserve(packet, amount)
        assert got == amount
        self.gate.settle(packet, got, outcome, delivered)
        return got


def counted(service: WalletService) -> tuple[int, int]:
    """(sent, unresolved) of SITE in history after a group commit."""
    service.flush()
    totals = service.site_totals(site=SITE)
    return (sum(t.sent for t in totals), sum(t.unresolved for t in totals))


def test_the_table_covers_every_outcome_and_charges_every_uncertain_one() -> None:
    assert set(SETTLEMENT) == set(Outcome)
    for outcome, how in SETTLEMENT.items():
        assert (how is Settlement.CHARGE) == outcome.uncertain
    assert SETTLEMENT[Outcome.FULFILLED] is Settlement.COMMIT
    assert SETTLEMENT[Outcome.REFUSED] is Settlement.RELEASE
    assert SETTLEMENT[Outcome.REJECTED] is Settlement.HOLD


@pytest.mark.parametrize(
    ("outcome", "sent", "unresolved"),
    [
        (Outcome.FULFILLED, 100, 0),
        (Outcome.REFUSED, 0, 0),
        (Outcome.EXPIRED, 0, 100),
        (Outcome.LATE, 0, 100),
        (Outcome.BAD_FULFILLMENT, 0, 100),
        (Outcome.LOST, 0, 100),
    ],
)
def test_each_outcome_row(
    wallet: tuple[WalletService, WallClock],
    loop: ManualLoop,
    outcome: Outcome,
    sent: int,
    unresolved: int,
) -> None:
    service, wall = wallet
    session = Session(service, loop, wall)
    session.send(100, outcome, delivered=100 if outcome is Outcome.FULFILLED else 0)
    loop.run_due()
    assert counted(service) == (sent, unresolved)


def test_a_held_reject_counts_against_the_cap_until_the_receiver_speaks(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=FAST, cap_total=150))
    session = Session(service, loop, wall)
    session.send(100, Outcome.REJECTED)
    assert session.gate.held == 100
    # the held 100 may have reached the receiver: only 50 more fit under the cap
    assert session.gate.reserve(99, 100) == 50
    session.gate.settle(99, 50, Outcome.FULFILLED, 50)
    # the receiver's own totals say it got exactly the 50: the held 100 never arrived
    session.evidence = Evidence(reported=50, counted=50, busy=False)
    loop.run_due()
    assert session.gate.held == 0
    assert counted(service) == (50, 0)


def test_a_held_reject_the_receiver_was_paid_for_is_charged(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    """A handler that kept the receiver's Fulfill and answered with a Reject."""
    service, wall = wallet
    session = Session(service, loop, wall)
    session.send(100, Outcome.REJECTED)
    session.send(100, Outcome.FULFILLED, delivered=100)
    session.evidence = Evidence(reported=200, counted=100, busy=False)
    loop.run_due()
    assert session.gate.held == 0
    assert counted(service) == (100, 100)


def test_no_conclusion_while_other_packets_are_in_flight_or_reports_lag(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    session = Session(service, loop, wall)
    session.send(100, Outcome.REJECTED)
    session.evidence = Evidence(reported=100, counted=100, busy=True)
    session.send(100, Outcome.FULFILLED, delivered=100)
    loop.run_due()
    assert session.gate.held == 100
    session.evidence = Evidence(reported=0, counted=100, busy=False)  # not reported yet
    session.send(100, Outcome.REFUSED)
    loop.run_due()
    assert session.gate.held == 100


def test_held_rejects_are_charged_when_the_session_ends_or_beyond_the_bound(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    session = Session(service, loop, wall)
    for _ in range(HELD_MAX + 2):
        session.send(10, Outcome.REJECTED)
    assert session.gate.held == 10 * HELD_MAX  # the two oldest were charged
    assert counted(service) == (0, 20)
    session.doc.end()
    assert session.gate.held == 0
    assert counted(service) == (0, 10 * (HELD_MAX + 2))
    assert session.gate.reserve(999, 10) == 0  # an ended document pays nothing more


def test_a_wrong_fulfillment_stops_the_provider_for_the_document_even_after_reconnecting(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    notices: list[BudgetReached] = []
    service.events.subscribe(
        lambda ev: notices.append(ev) if isinstance(ev, BudgetReached) else None
    )
    session = Session(service, loop, wall)
    session.send(100, Outcome.BAD_FULFILLMENT)
    assert notices == [BudgetReached(SITE, Reason.PROVIDER_FAILING)]
    assert session.gate.reserve(2, 100) == 0
    assert session.gate.capped.done()
    # the page reconnects: a new connection of the same document gets nothing
    again = session.new_gate(service, loop)
    assert again.reserve(3, 100) == 0
    assert again.capped.done()
    assert again.refusal is Reason.PROVIDER_FAILING
    assert counted(service) == (0, 100)


def test_lifting_a_pause_pays_at_most_one_pace_period(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    rate = 3_600_000_000  # 1e6 units a second
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=rate, state=SiteState.PAUSED))
    session = Session(service, loop, wall)
    assert session.gate.reserve(1, 10**12) == 0
    assert session.gate.refusal is Reason.PAUSED
    wall.now += timedelta(seconds=55)  # attended, paused: nothing may bank beyond one pace
    service.set_site_policy(SitePolicy(SITE, rate_per_hour=rate))
    got = session.gate.reserve(2, 10**12)
    assert 0 < got <= 1_000_000 * PACE.total_seconds()


def test_a_document_not_attended_pays_nothing_and_resumes_when_attended(
    wallet: tuple[WalletService, WallClock], loop: ManualLoop
) -> None:
    service, wall = wallet
    session = Session(service, loop, wall)
    session.doc.set_attending(False)
    assert session.gate.reserve(1, 10) == 0
    assert not session.activity.is_active(SITE)
    session.doc.set_attending(True)
    assert session.activity.is_active(SITE)
    assert session.gate.reserve(2, 10) == 10
