"""History reports and the ``trickle history`` / ``trickle budget`` commands on a real profile."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from wallet.budgets import USD9, SitePolicy, SiteState
from wallet.reports import CSV_HEADER, HistoryFilter, HistoryReader, SortKey, csv_text
from wallet.service import WalletService
from wallet.store import database_path, open_store
from wallet.store.engine import transaction
from wallet.store.history import HistoryDelta, hour_of, record

ROOT = Path(__file__).resolve().parents[2]
TZ = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 21, 12, 0, tzinfo=UTC)
SITES = ["https://a.example", "https://b.example", "https://c.example"]


@pytest.fixture
def profile(tmp_path: Path) -> Path:
    p = tmp_path / "profile"
    svc = WalletService.open(p, tz=TZ, clock=lambda: NOW)
    svc.set_site_policy(SitePolicy(SITES[0], cap_month=2_000_000_000))
    engine = open_store(database_path(p))
    h = hour_of(NOW)
    with transaction(engine) as conn:
        record(
            conn,
            [
                HistoryDelta(
                    site=SITES[i % 3],
                    provider="https://wallet.example",
                    asset=USD9,
                    hour=h - 1000 + i,
                    sent=(i * 7919) % 1000 * 1000 + 1,
                    packets=i % 5 + 1,
                )
                for i in range(1000)
            ],
        )
    engine.dispose()
    svc.close()
    return p


@pytest.fixture
def reader(profile: Path) -> Iterator[HistoryReader]:
    engine = open_store(database_path(profile))
    yield HistoryReader(engine)
    engine.dispose()


@pytest.mark.parametrize("key", list(SortKey))
@pytest.mark.parametrize("descending", [True, False])
def test_pages_read_backwards_equal_pages_read_forwards(
    reader: HistoryReader, key: SortKey, descending: bool
) -> None:
    total = reader.count()
    assert total == 1000
    for offset in (0, 100, 490, 500, 744, 990, 999):
        fwd = reader.page(offset, 64, key=key, descending=descending)
        back = reader.page(offset, 64, key=key, descending=descending, total=total)
        assert [r.id for r in back] == [r.id for r in fwd]
    assert reader.page(1000, 10, total=total) == []


def test_iter_rows_is_chunked_and_complete(reader: HistoryReader) -> None:
    rows = list(reader.iter_rows(chunk=33))
    assert len(rows) == 1000 and len({r.id for r in rows}) == 1000
    assert [r.start for r in rows] == sorted(r.start for r in rows)
    only = list(reader.iter_rows(HistoryFilter(site=SITES[1]), chunk=7))
    assert {r.site for r in only} == {SITES[1]} and len(only) == 333


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "TZ": "Europe/Berlin", "PYTHONPATH": str(ROOT)}
    return subprocess.run(
        [sys.executable, "-m", "ui.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_history_command(profile: Path, reader: HistoryReader) -> None:
    got = _cli("history", "--site", SITES[2], "--profile", str(profile))
    assert got.returncode == 0, got.stderr
    lines = [json.loads(line) for line in got.stdout.splitlines()]
    assert len(lines) == 333 and {d["site"] for d in lines} == {SITES[2]}
    rows = list(reader.iter_rows(HistoryFilter(site=SITES[2])))
    assert [d["sent"] for d in lines] == [f"{r.sent // 10**9}.{r.sent % 10**9:09d}" for r in rows]
    got = _cli("history", "--csv", "--since", "2026-11-20", "--profile", str(profile))
    since = datetime(2026, 11, 20, tzinfo=TZ)
    # (text mode reads the CSV's CRLF line ends as "\n")
    expected = csv_text(reader.iter_rows(HistoryFilter(start=since)), TZ)
    assert got.stdout.replace("\n", "\r\n") == expected
    assert expected.count("\r\n") == 1 + sum(1 for r in reader.iter_rows() if r.start >= since)
    bad = _cli("history", "--since", "yesterday", "--profile", str(profile))
    assert bad.returncode == 1 and "not a date" in bad.stderr and "Traceback" not in bad.stderr
    bad_site = _cli("history", "--site", "news.example", "--profile", str(profile))
    assert bad_site.returncode == 1
    assert "did you mean https://news.example?" in bad_site.stderr
    # Origins are normalised: any spelling of the origin finds the same rows.
    loud = _cli("history", "--site", "HTTPS://C.Example:443/some/page", "--profile", str(profile))
    assert loud.stdout == _cli("history", "--site", SITES[2], "--profile", str(profile)).stdout


def test_budget_command(profile: Path) -> None:
    shown = _cli("budget", "show", "--json", "--profile", str(profile))
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["asset"] == {"code": "USD", "scale": 9}
    assert doc["defaults"]["month"] == "5.000000000"
    (a,) = doc["sites"]
    assert a["site"] == SITES[0] and a["set"]["month"] == "2.000000000"
    assert a["effective"]["rate"] == "0.600000000"

    got = _cli(
        "budget", "set", SITES[1], "--day", "0.25", "--pause", "--json", "--profile", str(profile)
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["state"] == "paused"
    svc = WalletService.open(profile, tz=TZ, clock=lambda: NOW)
    try:
        p = svc.site_policy(SITES[1])
        assert (p.state, p.cap_day) == (SiteState.PAUSED, 250_000_000)
    finally:
        svc.close()
    got = _cli(
        "--profile",
        str(profile),
        "budget",
        "set",
        SITES[1],
        "--day",
        "default",
        "--resume",
        "--json",
    )
    assert json.loads(got.stdout)["set"]["day"] is None
    bad = _cli("budget", "set", SITES[1], "--day", "0.0000000001", "--profile", str(profile))
    assert bad.returncode == 1 and "at most 9 digits" in bad.stderr
    reset = _cli("budget", "reset", SITES[0], "--json", "--profile", str(profile))
    assert json.loads(reset.stdout)["sites"][0]["set"]["month"] is None


def test_budget_prints_a_table_and_sets_the_global_budget(profile: Path) -> None:
    table = _cli("budget", "--profile", str(profile))
    assert table.returncode == 0, table.stderr
    lines = table.stdout.splitlines()
    assert lines[0] == "Monthly budget (all sites): 5.00 USD"  # what a new profile starts with
    header = next(line for line in lines if line.startswith("Site"))
    assert header.split() == [
        "Site",
        "State",
        "Rate/hour",
        "Cap/day",
        "Cap/month",
        "Cap",
        "total",
        "Today",
        "This",
        "month",
        "In",
        "total",
    ]
    row = next(line for line in lines if line.startswith(SITES[0]))
    assert row.split()[:3] == [SITES[0], "paid", "0.60"]
    assert "2.00 USD" in row  # the site's own month cap, readable: not 2.000000000
    set_it = _cli("budget", "monthly", "7,50", "--profile", str(profile))
    assert set_it.returncode == 1 and "did you mean 7.50?" in set_it.stderr
    set_it = _cli("budget", "monthly", "7.50", "--profile", str(profile))
    assert set_it.returncode == 0, set_it.stderr
    assert set_it.stdout.splitlines()[0] == "Monthly budget (all sites): 7.50 USD"
    big = _cli("budget", "monthly", "250", "--profile", str(profile))
    assert big.returncode == 1 and "250.00 USD a month; add --confirm" in big.stderr
    ok = _cli("budget", "monthly", "250", "--confirm", "--json", "--profile", str(profile))
    assert json.loads(ok.stdout)["monthlyBudget"] == "250.000000000"
    none = _cli("budget", "monthly", "none", "--json", "--profile", str(profile))
    assert json.loads(none.stdout)["monthlyBudget"] is None


def test_budget_set_requires_and_normalises_origins_and_confirms_big_rates(profile: Path) -> None:
    bare = _cli("budget", "set", "a.example", "--rate", "1", "--profile", str(profile))
    assert bare.returncode == 1 and "did you mean https://a.example?" in bare.stderr
    got = _cli(
        "budget",
        "set",
        "HTTPS://B.Example:443/x",
        "--rate",
        "1",
        "--json",
        "--profile",
        str(profile),
    )
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["site"] == SITES[1]
    big = _cli("budget", "set", SITES[1], "--rate", "1000", "--profile", str(profile))
    assert big.returncode == 1
    assert "could be paid up to 5.00 USD a month; add --confirm" in big.stderr  # default cap
    ok = _cli("budget", "set", SITES[1], "--rate", "1000", "--confirm", "--profile", str(profile))
    assert ok.returncode == 0, ok.stderr
    comma = _cli("budget", "set", SITES[1], "--rate", "1,5", "--profile", str(profile))
    assert comma.returncode == 1 and "did you mean 1.5?" in comma.stderr


def test_budget_forget_deletes_the_history_only_when_asked(profile: Path) -> None:
    def site_rows() -> list[str]:
        out = _cli("history", "--site", SITES[0], "--profile", str(profile)).stdout
        return out.splitlines()

    assert len(site_rows()) == 334
    kept = _cli("budget", "forget", SITES[0], "--json", "--profile", str(profile))
    assert kept.returncode == 0, kept.stderr
    assert json.loads(kept.stdout)["sites"][0]["set"]["month"] is None
    assert len(site_rows()) == 334
    gone = _cli("budget", "forget", "HTTPS://A.example/", "--history", "--profile", str(profile))
    assert gone.returncode == 0, gone.stderr
    assert site_rows() == []


def test_sites_and_account_commands(profile: Path) -> None:
    svc = WalletService.open(profile, tz=TZ, clock=lambda: NOW)
    svc.set_account("sandbox", "test.sandbox.you", USD9, 12_345_000_000)
    svc.close()
    sites = _cli("sites", "--json", "--profile", str(profile))
    docs = json.loads(sites.stdout)
    assert [d["site"] for d in docs] == SITES
    assert docs[0]["ratePerHour"] == "0.600000000"
    table = _cli("sites", "--profile", str(profile)).stdout.splitlines()
    assert table[0].split() == ["Site", "State", "Rate/hour", "This", "month", "In", "total"]
    assert [line.split()[0] for line in table[2:]] == SITES
    acct = _cli("account", "--json", "--profile", str(profile))
    assert json.loads(acct.stdout) == [
        {
            "network": "sandbox",
            "address": "test.sandbox.you",
            "asset": {"code": "USD", "scale": 9},
            "balance": "12.345000000",
        }
    ]
    assert "12.345 USD" in _cli("account", "--profile", str(profile)).stdout


@pytest.mark.parametrize(
    ("args", "expected"),
    [
        (["history"], ""),
        (["history", "--csv"], None),  # the CSV header alone
        (
            ["sites"],
            "Site  State  Rate/hour  This month  In total\n"
            "----  -----  ---------  ----------  --------\n",
        ),
        (["sites", "--json"], "[]\n"),
        (["account", "--json"], "[]\n"),
        (["account"], "Network  Address  Balance\n-------  -------  -------\n"),
    ],
)
def test_a_profile_never_opened_is_an_empty_result_not_an_error(
    tmp_path: Path, args: list[str], expected: str | None
) -> None:
    fresh = tmp_path / "never-opened"
    got = _cli(*args, "--profile", str(fresh))
    assert got.returncode == 0, got.stderr
    if expected is None:
        assert got.stdout.splitlines() == [",".join(CSV_HEADER)]
    else:
        assert got.stdout == expected
    assert not fresh.exists()  # reading creates nothing


def test_budget_on_a_profile_never_opened_shows_what_it_would_start_with(tmp_path: Path) -> None:
    fresh = tmp_path / "never-opened"
    doc = json.loads(_cli("budget", "--json", "--profile", str(fresh)).stdout)
    assert doc["monthlyBudget"] == "5.000000000" and doc["sites"] == []
    table = _cli("budget", "--profile", str(fresh))
    assert table.returncode == 0 and "Monthly budget (all sites): 5.00 USD" in table.stdout
    assert not fresh.exists()
