"""The browsing store: its own private SQLite file, frecency, completion, clearing by time."""

from __future__ import annotations

import os
import sqlite3
import stat
from pathlib import Path

import pytest

from ui.browser.storage import HALF_LIFE, BrowsingStore, BrowsingStoreError

T0 = 1_800_000_000.0


class Clock:
    def __init__(self) -> None:
        self.now = T0

    def __call__(self) -> float:
        return self.now


def test_files_are_private_whatever_the_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        store = BrowsingStore.open(tmp_path / "profile")
        store.record_visit("https://a.example/", "A")
        store.close()
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "profile").stat().st_mode) == 0o700
    for path in (tmp_path / "profile").iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path.name
    assert sqlite3.connect(tmp_path / "profile" / "browsing.sqlite").execute(
        "PRAGMA journal_mode"
    ).fetchone() == ("wal",)


def test_frecency_weighs_recent_visits_more_and_does_not_depend_on_now(tmp_path: Path) -> None:
    clock = Clock()
    store = BrowsingStore.open(tmp_path, clock)
    clock.now = T0 - 3 * HALF_LIFE  # 4 visits three half-lives ago weigh 4/8 of one today
    for _ in range(4):
        store.record_visit("https://old.example/news", "Old news")
    clock.now = T0
    store.record_visit("https://new.example/news", "New news")
    assert [s.url for s in store.suggest("news")] == [
        "https://new.example/news",
        "https://old.example/news",
    ]
    clock.now = T0 + 50 * HALF_LIFE  # much later, the order is the same
    assert store.suggest("news")[0].url == "https://new.example/news"
    clock.now = T0 - 3 * HALF_LIFE  # two more old visits: 6/8 still < 1
    store.record_visit("https://old.example/news")
    store.record_visit("https://old.example/news")
    assert store.suggest("news")[0].url == "https://new.example/news"
    store.record_visit("https://old.example/news")
    store.record_visit("https://old.example/news")
    store.record_visit("https://old.example/news")  # 9/8 > 1
    assert store.suggest("news")[0].url == "https://old.example/news"
    assert store.history("old")[0].title == "Old news"  # a visit without a title keeps it


def test_typed_prefix_first_and_like_wildcards_are_literal(tmp_path: Path) -> None:
    store = BrowsingStore.open(tmp_path, Clock())
    for _ in range(5):
        store.record_visit("https://blog.example/about-docs", "About")
    store.record_visit("https://docs.example/", "Docs")
    assert store.suggest("docs")[0].url == "https://docs.example/"
    store.record_visit("https://www.x.example/100%_sure", "percent")
    assert [s.url for s in store.suggest("100%_")] == ["https://www.x.example/100%_sure"]
    assert store.suggest("%x") == []  # "%" is a percent sign, not "anything"
    assert store.suggest("a_out") == []
    assert [s.url for s in store.suggest("x.exa")] == ["https://www.x.example/100%_sure"]
    assert store.suggest("   ") == []


def test_clear_all_and_since(tmp_path: Path) -> None:
    clock = Clock()
    store = BrowsingStore.open(tmp_path, clock)
    store.record_visit("https://a.example/")
    clock.now += 100
    store.record_visit("https://b.example/")
    assert store.clear_history(since=T0 + 50) == 1
    assert [v.url for v in store.history()] == ["https://a.example/"]
    assert store.clear_history() == 1
    assert store.history() == []


def test_a_newer_file_is_refused(tmp_path: Path) -> None:
    BrowsingStore.open(tmp_path).close()
    db = sqlite3.connect(tmp_path / "browsing.sqlite")
    db.execute("PRAGMA user_version=99")
    db.close()
    with pytest.raises(BrowsingStoreError, match="newer Trickle"):
        BrowsingStore.open(tmp_path)
