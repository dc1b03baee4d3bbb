"""Realistic wallet data for the UI tests and the benchmark: sites, policies, months of history.

History older than today is ingested through the history module (``wallet.store.history.record``,
the ledger's own group-commit path); today's payments go through the service's own
reserve/commit path with an injected clock.
"""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Engine

from wallet.budgets import USD9, Defaults, GlobalPolicy, SitePolicy, SiteState, period_keys
from wallet.ledger import Reservation
from wallet.service import WalletService
from wallet.store import repo
from wallet.store.engine import transaction
from wallet.store.history import HistoryDelta, hour_of, hour_start, record

TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
USD = USD9
EUR = type(USD9)("EUR", 6)

NEWS = "https://news.example"
BLOG = "https://blog.example"
VIDEO = "https://video.example"
PODCAST = "https://podcast.example"
COMICS = "https://comics.example"
SITES = (NEWS, BLOG, VIDEO, PODCAST, COMICS)
WALLET_ORIGIN = "https://wallet.example"
WALLET_HANDLER = "https://wallet.example/handler"
UNITS = 1_000_000_000  # one USD at scale 9


class FakeClock:
    """An injected clock: moves only when told to."""

    def __init__(self, start: datetime = NOW) -> None:
        self.now = start

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **kw: float) -> datetime:
        self.now += timedelta(**kw)
        return self.now


@dataclass(frozen=True)
class Seeded:
    rows: int
    packets: int


def configure(svc: WalletService) -> None:
    svc.set_global_policy(
        GlobalPolicy(
            monthly_budget=20 * UNITS,
            defaults=Defaults(rate_per_hour=600_000_000, cap_month=5 * UNITS),
        )
    )
    svc.register_handler(WALLET_ORIGIN, "Example Wallet", WALLET_HANDLER)
    svc.set_account("sandbox", "test.trickle.sandbox.alice", USD, 50 * UNITS)
    svc.set_site_policy(SitePolicy(NEWS, rate_per_hour=1_200_000_000, cap_month=8 * UNITS))
    svc.set_site_policy(SitePolicy(BLOG, state=SiteState.PAUSED))
    svc.set_site_policy(SitePolicy(VIDEO, state=SiteState.BLOCKED))
    svc.set_site_policy(SitePolicy(PODCAST, cap_day=500_000_000))


def ingest_history(
    engine: Engine, *, now: datetime = NOW, days: int = 120, seed: int = 8, tz: ZoneInfo = TZ
) -> Seeded:
    """About four months of browsing before today: a few hours a day, several sites."""
    rng = random.Random(seed)
    start_hour = hour_of(now - timedelta(days=days))
    today = hour_of(now.replace(hour=0))
    weights = {NEWS: 5, BLOG: 3, VIDEO: 2, PODCAST: 2, COMICS: 1}
    deltas: list[HistoryDelta] = []
    packets = 0
    for hour in range(start_hour, today - 24):
        local_h = (hour + 1) % 24
        if local_h < 7 or rng.random() > 0.35:
            continue
        site = rng.choices(list(weights), weights=list(weights.values()))[0]
        n = rng.randint(20, 600)
        per = rng.randint(100_000, 300_000)  # ~0.0002 USD a packet
        dest = EUR if site == VIDEO else USD
        deltas.append(
            HistoryDelta(
                site=site,
                provider=WALLET_ORIGIN,
                asset=USD,
                hour=hour,
                connection=f"c{hour % 7}",
                dest_asset=dest,
                sent=n * per,
                delivered=n * per // (1000 if dest is EUR else 1),
                packets=n,
                unresolved=per if rng.random() < 0.03 else 0,
            )
        )
        packets += n
    with transaction(engine) as conn:
        record(conn, deltas)
        # What the ledger would have counted against the caps and the budget for them.
        for d in deltas:
            day, month = period_keys(hour_start(d.hour), tz)
            repo.add_to_counters(conn, d.site, day, month, d.sent + d.unresolved)
    return Seeded(len(deltas), packets)


def pay_today(
    svc: WalletService, clock: Callable[[], datetime], advance: Callable[[], object]
) -> int:
    """Stream to two sites through the service (reserve -> commit); returns the amount sent."""
    sent = 0
    for site, packets in ((NEWS, 30), (COMICS, 12)):
        svc.set_site_active(site, True)
        for _ in range(packets):
            advance()
            got = svc.reserve(site, WALLET_ORIGIN, USD, 150_000, connection="today")
            assert isinstance(got, Reservation), got
            svc.commit(got, delivered=got.amount, dest_asset=USD)
            sent += got.amount
        svc.set_site_active(site, False)
    svc.flush()
    return sent
