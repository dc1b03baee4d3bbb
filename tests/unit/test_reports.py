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
from wallet.reports import HistoryFilter, HistoryReader, SortKey, csv_text
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
    missing = _cli("history", "--profile", str(profile / "nope"))
    assert missing.returncode == 1 and "no Trickle profile" in missing.stderr


def test_budget_command(profile: Path) -> None:
    shown = _cli("budget", "show", "--profile", str(profile))
    assert shown.returncode == 0, shown.stderr
    doc = json.loads(shown.stdout)
    assert doc["asset"] == {"code": "USD", "scale": 9}
    assert doc["defaults"]["month"] == "5.000000000"
    (a,) = doc["sites"]
    assert a["site"] == SITES[0] and a["set"]["month"] == "2.000000000"
    assert a["effective"]["rate"] == "0.600000000"

    got = _cli("budget", "set", SITES[1], "--day", "0.25", "--pause", "--profile", str(profile))
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["state"] == "paused"
    svc = WalletService.open(profile, tz=TZ, clock=lambda: NOW)
    try:
        p = svc.site_policy(SITES[1])
        assert (p.state, p.cap_day) == (SiteState.PAUSED, 250_000_000)
    finally:
        svc.close()
    got = _cli("budget", "set", SITES[1], "--day", "default", "--resume", "--profile", str(profile))
    assert json.loads(got.stdout)["set"]["day"] is None
    bad = _cli("budget", "set", SITES[1], "--day", "0.0000000001", "--profile", str(profile))
    assert bad.returncode == 1 and "at most 9 digits" in bad.stderr
    reset = _cli("budget", "reset", SITES[0], "--profile", str(profile))
    assert json.loads(reset.stdout)["sites"][0]["set"]["month"] is None
