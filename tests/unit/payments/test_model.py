"""Hypothesis stateful test: the payment layer (documents, gates, the real wallet service and
SQLite file) against a receiver that may or may not have been paid whenever the outcome is not
certain.

Rules: open a document, a connection in it, reserve, settle with any outcome (the receiver is
paid for a FULFILLED packet, never for a REFUSED one, and maybe for anything else), the
receiver's word reaching a connection, attention changing, a document ending, the clock moving,
and a restart (a crash: the service is dropped unsettled and a new one recovers the file).

Invariants after every step, and across restarts:
- the receiver's own count ≤ the ledger's durable count (spent + unresolved + open leases in
  full, which a crash never gives back) ≤ the cap — nothing paid that is not counted;
- in this process, history's spent + unresolved plus what is still open (in flight or held)
  ≥ what the receiver got from this process's connections.
"""

from __future__ import annotations

import itertools
import shutil
import tempfile
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import Engine

from tests.unit.core.ledgerkit import counters
from tests.unit.manual_loop import ManualLoop, WallClock
from wallet.budgets import Asset, SitePolicy
from wallet.payments import Payments
from wallet.payments.documents import Document
from wallet.payments.gate import Evidence, PacketGate
from wallet.service import WalletService
from wallet.store import open_store
from wallet.store.engine import database_path
from wallet.stream import Outcome

# Worst cases first: Hypothesis favours the first choices while it explores and shrinks.
OUTCOMES = st.sampled_from(
    [
        Outcome.LOST,
        Outcome.EXPIRED,
        Outcome.REJECTED,
        Outcome.LATE,
        Outcome.BAD_FULFILLMENT,
        Outcome.FULFILLED,
        Outcome.REFUSED,
    ]
)
SITE = "https://site.example"
PROVIDER = "https://provider.example/h"
USD = Asset("USD", 9)
CAP = 2_000
RATE = 3_600_000_000_000  # accrual never binds: the cap does


@dataclass
class Conn:
    """A connection as the receiver sees it: what it got, and what Trickle counted delivered."""

    gate: PacketGate
    received: int = 0
    counted: int = 0


class PaymentModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.dir = Path(tempfile.mkdtemp(prefix="trickle-payments-model-"))
        self.loop = ManualLoop()
        self.wall = WallClock()
        self.received_before = 0  # what the receiver got from processes that crashed
        self.dead_engines: list[Engine] = []
        self.ids = itertools.count(1)
        self._start()
        self.service.set_site_policy(SitePolicy(SITE, rate_per_hour=RATE, cap_total=CAP))

    def _start(self) -> None:
        # The test owns the engine, so that a crash can drop the service unsettled.
        self.engine = open_store(database_path(self.dir))
        self.service = WalletService(self.engine, tz=ZoneInfo("UTC"), clock=self.wall)
        self.service.recover()
        self.payments = Payments(self.service, self.loop, pace=0.0)
        self.documents: list[Document] = []
        self.conns: list[Conn] = []
        self.open: dict[int, tuple[Conn, int]] = {}  # packet id -> (connection, amount)

    def teardown(self) -> None:
        self.service.close()
        for engine in self.dead_engines:
            engine.dispose()
        self.loop.close()
        shutil.rmtree(self.dir, ignore_errors=True)

    # -- rules --

    @rule(same_document=st.booleans())
    def connect(self, same_document: bool) -> None:
        """A page opens a connection: in a new document, or again in the last one."""
        alive = [d for d in self.documents if d.alive]
        if same_document and alive:
            doc = alive[-1]
        else:
            doc = self.payments.document(SITE, attending=True).document
            self.documents.append(doc)
        gate = PacketGate(self.service, doc, loop=self.loop, provider=PROVIDER, pace=0.0)
        conn = Conn(gate)
        gate.bind(USD, f"c{len(self.conns)}")
        gate.set_evidence(lambda: Evidence(conn.received, conn.counted, busy=False))
        doc.add_gate(gate)
        self.conns.append(conn)

    @precondition(lambda self: any(not c.gate.closed for c in self.conns))
    @rule(data=st.data(), amount=st.integers(1, 700))
    def reserve(self, data: st.DataObject, amount: int) -> None:
        conn = data.draw(st.sampled_from([c for c in self.conns if not c.gate.closed]))
        packet = next(self.ids)
        self.wall.now += timedelta(seconds=1)  # viewing time: pay accrues while attended
        got = conn.gate.reserve(packet, amount)
        assert 0 <= got <= amount
        if got:
            self.open[packet] = (conn, got)

    @precondition(lambda self: any(not c.gate.closed for c in self.conns))
    @rule(
        data=st.data(),
        amount=st.integers(1, 700),
        outcome=OUTCOMES,
        unpaid=st.booleans(),
    )
    def pay(self, data: st.DataObject, amount: int, outcome: Outcome, unpaid: bool) -> None:
        """A packet that comes back before anything else happens."""
        before = set(self.open)
        self.reserve(data, amount)
        for packet in set(self.open) - before:
            self._settle(packet, outcome, unpaid)

    @precondition(lambda self: bool(self.open))
    @rule(data=st.data(), outcome=OUTCOMES, unpaid=st.booleans())
    def settle(self, data: st.DataObject, outcome: Outcome, unpaid: bool) -> None:
        """One of the packets in flight comes back (in any order)."""
        self._settle(data.draw(st.sampled_from(sorted(self.open))), outcome, unpaid)

    def _settle(self, packet: int, outcome: Outcome, unpaid: bool) -> None:
        conn, amount = self.open.pop(packet)
        # The receiver's truth: paid for a Fulfill, never for its own refusal, and otherwise
        # paid unless the test says not (the worst case is the default).
        paid = outcome is Outcome.FULFILLED or (not unpaid and outcome is not Outcome.REFUSED)
        if paid:
            conn.received += amount
        if outcome is Outcome.FULFILLED:
            conn.counted += amount
        conn.gate.settle(packet, amount, outcome, amount if outcome is Outcome.FULFILLED else 0)

    @rule()
    def receiver_speaks(self) -> None:
        """Later authenticated replies carry the receivers' totals (weighed on the loop)."""
        for conn in self.conns:
            if not any(c is conn for c, _ in self.open.values()):
                conn.gate.receiver_spoke()
        self.loop.run_due()

    @precondition(lambda self: bool(self.documents))
    @rule(attending=st.booleans())
    def attention(self, attending: bool) -> None:
        self.documents[-1].set_attending(attending)
        self.loop.run_due()

    @precondition(lambda self: bool(self.documents))
    @rule()
    def end_document(self) -> None:
        self.documents[0].end()
        self.loop.run_due()

    @rule(seconds=st.integers(1, 3_600))
    def tick(self, seconds: int) -> None:
        self.wall.now += timedelta(seconds=seconds)
        self.loop.now += seconds
        self.loop.run_due()
        self.service.flush_if_due()

    @rule()
    def restart(self) -> None:
        """A crash: nothing settled, the next process recovers the file."""
        self.received_before += sum(c.received for c in self.conns)
        self.dead_engines.append(self.engine)  # its leases stay counted, unsettled
        self._start()

    # -- invariants --

    def _received(self) -> int:
        return self.received_before + sum(c.received for c in self.conns)

    @invariant()
    def never_more_than_the_cap(self) -> None:
        assert self._received() <= CAP

    @invariant()
    def nothing_paid_that_is_not_counted(self) -> None:
        """The ledger's durable count (spent + unresolved + open leases in full, across
        crashes) covers what the receiver got; in this process, history plus what is still
        open or held covers it too."""
        site_total, _ = counters(self.engine, SITE)
        assert self._received() <= site_total <= CAP
        self.service.flush_pending()
        totals = self.service.site_totals(site=SITE)
        counted = sum(t.sent + t.unresolved for t in totals)
        still_open = sum(c.gate.in_flight + c.gate.held for c in self.conns)
        assert counted + still_open >= sum(c.received for c in self.conns)


PaymentModel.TestCase.settings = settings(
    max_examples=200,
    stateful_step_count=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)
test_payment_model = pytest.mark.slow(PaymentModel.TestCase)
