"""History aggregates: the daily rollup stays exact; totals read through it are the same sums."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine, text

from wallet.budgets import USD9, Asset
from wallet.store.engine import transaction
from wallet.store.history import HistoryDelta, hour_of, record, row_count, totals_by_site
from wallet.store.repo import EPOCH

H0 = hour_of(datetime(2026, 11, 1, tzinfo=UTC))
SITES = ("https://a.example", "https://b.example", "https://c.example")

deltas = st.lists(
    st.builds(
        HistoryDelta,
        site=st.sampled_from(SITES),
        provider=st.sampled_from(["p", "q"]),
        asset=st.sampled_from([USD9, Asset("EUR", 2)]),
        hour=st.integers(H0, H0 + 24 * 5),
        connection=st.sampled_from(["", "c1", "c2"]),
        sent=st.integers(0, 10**6),
        delivered=st.integers(0, 10**6),
        packets=st.integers(0, 100),
        unresolved=st.integers(0, 10**3),
    ),
    max_size=40,
)


def _rollup_matches(engine: Engine) -> None:
    with transaction(engine, readonly=True) as conn:
        want = conn.execute(
            text(
                "SELECT site, provider, asset_code, asset_scale, hour / 24, sum(sent),"
                " sum(delivered), sum(packets), sum(unresolved) FROM history"
                " GROUP BY 1, 2, 3, 4, 5 ORDER BY 1, 2, 3, 4, 5"
            )
        ).all()
        got = conn.execute(
            text(
                "SELECT site, provider, asset_code, asset_scale, day, sent, delivered, packets,"
                " unresolved FROM history_day"
                " WHERE sent + delivered + packets + unresolved > 0 ORDER BY 1, 2, 3, 4, 5"
            )
        ).all()
    want = [w for w in want if sum(w[5:]) > 0]
    assert got == want


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(batches=st.lists(deltas, min_size=1, max_size=4), cut=st.integers(0, 2))
def test_the_daily_rollup_stays_exact(
    engine: Engine, batches: list[list[HistoryDelta]], cut: int
) -> None:
    with transaction(engine) as conn:
        conn.execute(text("DELETE FROM history"))
    for batch in batches:
        with transaction(engine) as conn:
            record(conn, batch)
    _rollup_matches(engine)
    with transaction(engine) as conn:  # other writers: direct updates and deletes
        conn.execute(text("UPDATE history SET sent = sent / 2"))
        # Move some rows to other days (to an empty range: no key collides).
        conn.execute(
            text("UPDATE history SET hour = hour + :d WHERE connection = 'c1'"), {"d": cut * 10_000}
        )
        conn.execute(text("DELETE FROM history WHERE connection = 'c2'"))
    _rollup_matches(engine)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    batch=deltas,
    start=st.none() | st.integers(-30, 24 * 6 * 60),
    length=st.none() | st.integers(0, 24 * 6 * 60),
    site=st.none() | st.sampled_from(SITES),
)
def test_totals_through_the_rollup_equal_the_hourly_sums(
    engine: Engine,
    batch: list[HistoryDelta],
    start: int | None,
    length: int | None,
    site: str | None,
) -> None:
    with transaction(engine) as conn:
        conn.execute(text("DELETE FROM history"))
        record(conn, batch)
    base = EPOCH + timedelta(hours=H0)
    t0 = None if start is None else base + timedelta(minutes=start)
    t1 = None if length is None else (t0 or base) + timedelta(minutes=length)
    with transaction(engine, readonly=True) as conn:
        got = totals_by_site(conn, start=t0, end=t1, site=site)
    expect: dict[tuple[str, Asset], list[int]] = {}
    for d in batch:
        start_of_hour = EPOCH + timedelta(hours=d.hour)
        if t0 is not None and start_of_hour < t0:
            continue
        if t1 is not None and start_of_hour >= t1:
            continue
        if site is not None and d.site != site:
            continue
        v = expect.setdefault((d.site, d.asset), [0, 0, 0, 0])
        for i, x in enumerate((d.sent, d.delivered, d.packets, d.unresolved)):
            v[i] += x
    expect = {k: v for k, v in expect.items() if any(v)}
    assert {(t.site, t.asset): [t.sent, t.delivered, t.packets, t.unresolved] for t in got} == (
        expect
    )
    assert [t.sent for t in got] == sorted((t.sent for t in got), reverse=True)


def test_row_count(engine: Engine) -> None:
    with transaction(engine) as conn:
        record(conn, [HistoryDelta("s", "p", USD9, H0, sent=1, packets=1)] * 3)
        assert row_count(conn) == 1
