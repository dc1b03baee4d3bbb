"""Helpers shared by the ledger tests: set up limits, read the durable counters."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Engine

from wallet.budgets import USD9, Asset, Defaults, GlobalPolicy, SitePolicy
from wallet.store import repo
from wallet.store.engine import transaction

SITE = "https://site.example"
ASSET = USD9


def configure(
    engine: Engine,
    now: datetime,
    *,
    site_total: int | None = None,
    site_day: int | None = None,
    site_month: int | None = None,
    global_month: int | None = None,
    balance: int | None = None,
) -> int | None:
    """Set the site's caps and the global budget; returns the account id if a balance is set."""
    with transaction(engine) as conn:
        repo.set_policy(
            conn,
            SitePolicy(SITE, cap_total=site_total, cap_day=site_day, cap_month=site_month),
            now,
        )
        repo.save_global_policy(
            conn,
            GlobalPolicy(
                monthly_budget=global_month,
                defaults=Defaults(cap_month=None),
            ),
        )
        if balance is None:
            return None
        acct = repo.upsert_account(
            conn, network="sandbox", address="g.sandbox.me", asset=ASSET, balance=balance, now=now
        )
        return acct.id


def counters(engine: Engine, site: str = SITE) -> tuple[int, int]:
    """(site total counter, sum of global month counters) — spent + leased."""
    with transaction(engine, readonly=True) as conn:
        site_total = repo.counter(conn, repo.site_scope(site), repo.TOTAL_PERIOD)
        glob = conn.exec_driver_sql(
            "SELECT coalesce(sum(amount), 0) FROM spend_counter WHERE scope = 'global'"
        ).scalar()
    return site_total, int(glob or 0)


def balance(engine: Engine, account_id: int) -> int:
    with transaction(engine, readonly=True) as conn:
        acct = repo.get_account_by_id(conn, account_id)
    assert acct is not None
    return acct.balance


def asset() -> Asset:
    return ASSET
