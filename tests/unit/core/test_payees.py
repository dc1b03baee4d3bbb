"""The payee table on a real SQLite file: one row per (site, connection), joined to history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from wallet.budgets import Asset
from wallet.service import WalletService
from wallet.store.engine import transaction
from wallet.store.history import HistoryDelta, hour_of, record
from wallet.store.payees import PayeeKind, PayeeRecord, short_address

USD = Asset("USD", 9)
NOW = datetime(2026, 12, 6, 9, 30, tzinfo=UTC)
SITE = "https://blog.example"


def test_payees_are_recorded_once_named_joined_to_history_and_forgotten(tmp_path: Path) -> None:
    svc = WalletService.open(tmp_path, tz=ZoneInfo("UTC"), clock=lambda: NOW)
    try:
        stream = PayeeRecord(
            SITE,
            "c1",
            "https://w.example/alice",
            wallet_address="https://w.example/alice",
            public_name="Alice",
            asset=USD,
            incoming_payment="https://w.example/ip/1",
        )
        tip = PayeeRecord(SITE, "c2", "$w.example/bob", PayeeKind.TIP)
        svc.record_payee(stream)
        svc.record_payee(stream)  # the same connection again: kept once
        svc.record_payee(tip)
        latest = svc.latest_payee(SITE)
        assert latest is not None and latest.connection == "c2"
        named = svc.latest_payee(SITE, PayeeKind.STREAM)
        assert named is not None and named.describe() == "Alice (w.example/alice)"
        assert tip.describe() == "w.example/bob"
        hour = hour_of(NOW)
        engine = svc.history_reader().engine
        with transaction(engine) as conn:
            record(
                conn,
                [
                    HistoryDelta(SITE, "p", USD, hour - 30, "c1", USD, sent=5, delivered=5),
                    HistoryDelta(SITE, "p", USD, hour, "c1", USD, sent=7, delivered=6),
                    HistoryDelta(SITE, "p", USD, hour, "c2", USD, sent=3, delivered=3),
                    HistoryDelta(SITE, "p", USD, hour, "other", USD, sent=100, delivered=100),
                ],
            )
        totals = {t.payee.connection: (t.sent, t.delivered) for t in svc.payee_totals(site=SITE)}
        assert totals == {"c1": (12, 11), "c2": (3, 3)}
        today = svc.payee_totals(site=SITE, start=NOW - timedelta(hours=2))
        assert {t.payee.connection: t.sent for t in today} == {"c1": 7, "c2": 3}
        svc.forget_site(SITE, history=True)
        assert svc.latest_payee(SITE) is None and svc.payee_totals() == []
    finally:
        svc.close()


def test_short_addresses() -> None:
    assert short_address("https://wallet.example/alice/") == "wallet.example/alice"
    assert short_address("$wallet.example/bob") == "wallet.example/bob"
