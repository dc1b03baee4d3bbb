"""Browsing data: visited pages, bookmarks, the session, site permissions, browser settings,
and when each cookie was first seen (for "clear browsing data" by time range).

This is not wallet data: it lives in its own SQLite file, ``<profile>/browsing.sqlite`` (WAL),
owned by ``BrowsingStore`` alone. Files are created mode 0600 whatever the umask; nothing
secret is stored here, and page titles are kept as the plain text the page gave.

Frecency. Each page has a score ``s`` with ``2**s = sum over its visits of 2**(t / H)`` (``t``
the visit time in seconds, ``H`` the half-life). At any time ``now`` the page's decayed
weight is ``2**(s - now / H)``: a visit counts one, halving every ``H``. The factor
``2**(-now / H)`` is common to every page, so ordering by ``s`` *is* ordering by decayed
weight, whatever ``now``: the score is updated once per visit and an index serves completion.
"""

from __future__ import annotations

import json
import math
import os
import sqlite3
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

FILE_NAME = "browsing.sqlite"
HALF_LIFE = 30 * 86_400.0  # a visit weighs half as much a month later
BOOKMARK_VISITS = 4.0  # a bookmark weighs as much as this many visits today
SCHEMA_VERSION = 1

Clock = Callable[[], float]
CookieKey = tuple[str, str, str]  # domain, path, name: what identifies a cookie

_SCHEMA = """
CREATE TABLE IF NOT EXISTS pages (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL DEFAULT '',
    visits INTEGER NOT NULL DEFAULT 0,
    last_visit REAL NOT NULL DEFAULT 0,
    score REAL NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS pages_by_score ON pages(score DESC);
CREATE TABLE IF NOT EXISTS visits (
    page_id INTEGER NOT NULL REFERENCES pages(id) ON DELETE CASCADE,
    at REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS visits_by_time ON visits(at);
CREATE INDEX IF NOT EXISTS visits_by_page ON visits(page_id);
CREATE TABLE IF NOT EXISTS bookmarks (
    id INTEGER PRIMARY KEY,
    url TEXT NOT NULL,
    title TEXT NOT NULL DEFAULT '',
    folder TEXT NOT NULL DEFAULT '',
    added REAL NOT NULL
);
CREATE INDEX IF NOT EXISTS bookmarks_by_url ON bookmarks(url);
CREATE TABLE IF NOT EXISTS permissions (
    origin TEXT NOT NULL,
    feature TEXT NOT NULL,
    allowed INTEGER NOT NULL,
    decided REAL NOT NULL DEFAULT 0,
    PRIMARY KEY (origin, feature)
);
CREATE TABLE IF NOT EXISTS cookies_seen (
    domain TEXT NOT NULL,
    path TEXT NOT NULL,
    name TEXT NOT NULL,
    first_seen REAL NOT NULL,
    PRIMARY KEY (domain, path, name)
);
CREATE TABLE IF NOT EXISTS settings (key TEXT PRIMARY KEY, value TEXT NOT NULL);
"""
# Substring search over addresses and titles for completion: an FTS5 trigram index kept in
# step with ``pages`` by triggers (SQLite >= 3.34). Without it, completion scans.
_TEXT_INDEX = """
CREATE VIRTUAL TABLE IF NOT EXISTS pages_text USING fts5(
    url, title, content='pages', content_rowid='id', tokenize='trigram'
);
CREATE TRIGGER IF NOT EXISTS pages_text_insert AFTER INSERT ON pages BEGIN
    INSERT INTO pages_text(rowid, url, title) VALUES (new.id, new.url, new.title);
END;
CREATE TRIGGER IF NOT EXISTS pages_text_delete AFTER DELETE ON pages BEGIN
    INSERT INTO pages_text(pages_text, rowid, url, title)
        VALUES ('delete', old.id, old.url, old.title);
END;
CREATE TRIGGER IF NOT EXISTS pages_text_update AFTER UPDATE OF url, title ON pages BEGIN
    INSERT INTO pages_text(pages_text, rowid, url, title)
        VALUES ('delete', old.id, old.url, old.title);
    INSERT INTO pages_text(rowid, url, title) VALUES (new.id, new.url, new.title);
END;
"""
TRIGRAM = 3  # the text index finds substrings of at least this many characters
SHORT_TEXT_SCOPE = 2000  # looked through first; one or two letters: only there


class BrowsingStoreError(RuntimeError):
    """The browsing data file cannot be opened or has an unknown format."""


@dataclass(frozen=True, slots=True)
class Visited:
    url: str
    title: str
    visits: int
    last_visit: float


@dataclass(frozen=True, slots=True)
class Bookmark:
    id: int
    url: str
    title: str
    folder: str


@dataclass(frozen=True, slots=True)
class Suggestion:
    url: str
    title: str
    bookmarked: bool


def _add_log2(a: float, b: float) -> float:
    """log2(2**a + 2**b) without overflow."""
    high, low = max(a, b), min(a, b)
    return high + math.log2(1.0 + 2.0 ** (low - high))


def _score(times: Sequence[float]) -> float:
    """log2(sum of 2**(t / H)), computed around the largest term."""
    top = max(times) / HALF_LIFE
    return top + math.log2(sum(2.0 ** (t / HALF_LIFE - top) for t in times))


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def create_private_file(path: Path) -> None:
    """Create ``path`` (and its parent) owner-only, whatever the umask; tighten if it exists."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path.parent, 0o700)
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    os.close(fd)
    os.chmod(path, 0o600)


class BrowsingStore:
    """The one owner of ``browsing.sqlite``. Use from the GUI thread only."""

    def __init__(self, path: Path, clock: Clock = time.time) -> None:
        self.path = path
        self._clock = clock
        for suffix in ("", "-wal", "-shm"):
            create_private_file(path.with_name(path.name + suffix))
        try:
            self._db = sqlite3.connect(path, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")
            self._db.execute("PRAGMA foreign_keys=ON")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise BrowsingStoreError(f"{path} was written by a newer Trickle (v{version})")
            self._db.executescript(_SCHEMA)
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(permissions)")}
            if "decided" not in columns:  # a file from before "clear by time range"
                self._db.execute(
                    "ALTER TABLE permissions ADD COLUMN decided REAL NOT NULL DEFAULT 0"
                )
            self.text_index = self._create_text_index()
            self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
        except sqlite3.DatabaseError as e:
            raise BrowsingStoreError(f"cannot open {path}: {e}") from e

    def _create_text_index(self) -> bool:
        try:
            self._db.executescript(_TEXT_INDEX)
        except sqlite3.OperationalError:  # no FTS5 or no trigram tokenizer in this SQLite
            return False
        return True

    @classmethod
    def open(cls, profile_dir: Path, clock: Clock = time.time) -> BrowsingStore:
        return cls(profile_dir / FILE_NAME, clock)

    def close(self) -> None:
        self._db.close()

    def now(self) -> float:
        return self._clock()

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        self._db.execute("BEGIN IMMEDIATE")
        try:
            yield self._db
        except BaseException:
            self._db.execute("ROLLBACK")
            raise
        self._db.execute("COMMIT")

    # --- visited pages -------------------------------------------------------------------

    def record_visit(self, url: str, title: str = "") -> None:
        at = self._clock()
        weight = at / HALF_LIFE
        with self._transaction() as db:
            row = db.execute("SELECT id, score, visits FROM pages WHERE url = ?", (url,)).fetchone()
            if row is None:
                cur = db.execute(
                    "INSERT INTO pages (url, title, visits, last_visit, score) VALUES (?,?,1,?,?)",
                    (url, title, at, weight),
                )
                page_id = cur.lastrowid
            else:
                page_id, score, _ = row
                db.execute(
                    "UPDATE pages SET visits = visits + 1, last_visit = ?, score = ?,"
                    " title = CASE WHEN ? = '' THEN title ELSE ? END WHERE id = ?",
                    (at, _add_log2(score, weight), title, title, page_id),
                )
            db.execute("INSERT INTO visits (page_id, at) VALUES (?, ?)", (page_id, at))

    def set_title(self, url: str, title: str) -> None:
        if title:
            self._db.execute("UPDATE pages SET title = ? WHERE url = ?", (title, url))

    def history(self, search: str = "", limit: int = 500) -> list[Visited]:
        """Visited pages, most recent first; ``search`` matches address or title."""
        pattern = f"%{_escape_like(search)}%"
        rows = self._db.execute(
            "SELECT url, title, visits, last_visit FROM pages"
            " WHERE visits > 0 AND (url LIKE ?1 ESCAPE '\\' OR title LIKE ?1 ESCAPE '\\')"
            " ORDER BY last_visit DESC LIMIT ?2",
            (pattern, limit),
        ).fetchall()
        return [Visited(*r) for r in rows]

    def delete_page(self, url: str) -> None:
        self._db.execute("DELETE FROM pages WHERE url = ?", (url,))

    def clear_history(self, since: float | None = None) -> int:
        """Forget visits at or after ``since`` (all when None); returns pages forgotten."""
        with self._transaction() as db:
            if since is None:
                db.execute("DELETE FROM visits")
            else:
                db.execute("DELETE FROM visits WHERE at >= ?", (since,))
            # What is left of each page's visits decides its score; pages with none go.
            gone = db.execute(
                "DELETE FROM pages WHERE id NOT IN (SELECT DISTINCT page_id FROM visits)"
            ).rowcount
            for page_id, times in _visits_by_page(db, since):
                db.execute(
                    "UPDATE pages SET visits = ?, last_visit = ?, score = ? WHERE id = ?",
                    (len(times), max(times), _score(times), page_id),
                )
        return int(gone)

    def pages_visited_since(self, since: float | None = None) -> list[str]:
        """Addresses with a visit at or after ``since`` (every address when None)."""
        if since is None:
            return [r[0] for r in self._db.execute("SELECT url FROM pages")]
        rows = self._db.execute(
            "SELECT DISTINCT p.url FROM pages p JOIN visits v ON v.page_id = p.id WHERE v.at >= ?",
            (since,),
        )
        return [r[0] for r in rows]

    # --- cookies: when each was first seen (QtWebEngine's cookie store has no dates) -------

    def cookies_seen(self, keys: Sequence[CookieKey]) -> None:
        """``keys`` exist now; a cookie's first sighting is kept (a refreshed one stays old)."""
        now = self._clock()
        with self._transaction() as db:
            db.executemany(
                "INSERT OR IGNORE INTO cookies_seen VALUES (?, ?, ?, ?)",
                [(*key, now) for key in keys],
            )

    def cookies_seen_since(self, since: float) -> set[CookieKey]:
        rows = self._db.execute(
            "SELECT domain, path, name FROM cookies_seen WHERE first_seen >= ?", (since,)
        )
        return {(d, p, n) for d, p, n in rows}

    def forget_cookies(self, since: float | None = None) -> None:
        if since is None:
            self._db.execute("DELETE FROM cookies_seen")
        else:
            self._db.execute("DELETE FROM cookies_seen WHERE first_seen >= ?", (since,))

    def import_pages(self, entries: Sequence[tuple[str, str, float]]) -> None:
        """Bulk load ``(url, title, visit time)`` (benchmarks and tests)."""
        with self._transaction() as db:
            for url, title, at in entries:
                cur = db.execute(
                    "INSERT OR IGNORE INTO pages (url, title, visits, last_visit, score)"
                    " VALUES (?,?,1,?,?)",
                    (url, title, at, at / HALF_LIFE),
                )
                if cur.rowcount:
                    db.execute("INSERT INTO visits VALUES (?, ?)", (cur.lastrowid, at))

    # --- completion ----------------------------------------------------------------------

    def suggest(self, text: str, limit: int = 8) -> list[Suggestion]:
        """Bookmarks and visited pages matching ``text``, best first (frecency).

        ``text`` matches anywhere in the address or the title. A bookmark adds the weight of
        ``BOOKMARK_VISITS`` visits today; an address that starts with ``text`` (after its
        scheme and ``www.``) goes before those that only contain it.
        """
        text = text.strip()
        if not text:
            return []
        like = f"%{_escape_like(text)}%"
        marks = self._db.execute(
            "SELECT b.url, b.title, p.score FROM bookmarks b LEFT JOIN pages p ON p.url = b.url"
            " WHERE b.url LIKE ?1 ESCAPE '\\' OR b.title LIKE ?1 ESCAPE '\\' LIMIT ?2",
            (like, limit),
        ).fetchall()
        bookmark_weight = self._clock() / HALF_LIFE + math.log2(BOOKMARK_VISITS)
        # The best pages first: when they hold enough matches (common text), those are the
        # answer. Otherwise the text index finds the rest (or, for one or two letters, which
        # it cannot, the scope bounds the cost).
        pages = self._db.execute(
            "SELECT url, title, score FROM (SELECT url, title, score FROM pages"
            " ORDER BY score DESC LIMIT ?3)"
            " WHERE url LIKE ?1 ESCAPE '\\' OR title LIKE ?1 ESCAPE '\\'"
            " ORDER BY score DESC LIMIT ?2",
            (like, limit, SHORT_TEXT_SCOPE if self.text_index else -1),
        ).fetchall()
        if len(pages) < limit and self.text_index and len(text) >= TRIGRAM:
            phrase = '"' + text.replace('"', '""') + '"'
            pages = self._db.execute(
                "SELECT p.url, p.title, p.score FROM pages_text t JOIN pages p ON p.id = t.rowid"
                " WHERE pages_text MATCH ? ORDER BY p.score DESC LIMIT ?",
                (phrase, limit),
            ).fetchall()
        ranked: dict[str, tuple[float, Suggestion]] = {}
        for url, title, score in pages:
            ranked[url] = (score, Suggestion(url, title, False))
        for url, title, score in marks:
            boosted = bookmark_weight if score is None else _add_log2(score, bookmark_weight)
            ranked[url] = (boosted, Suggestion(url, title, True))
        best = sorted(ranked.values(), key=lambda item: -item[0])
        lowered = text.lower()
        # An address that starts with what was typed goes first, as in every browser.
        best.sort(key=lambda item: not _host_part(item[1].url).startswith(lowered))
        return [s for _, s in best[:limit]]

    # --- bookmarks -----------------------------------------------------------------------

    def add_bookmark(self, url: str, title: str, folder: str = "") -> int:
        cur = self._db.execute(
            "INSERT INTO bookmarks (url, title, folder, added) VALUES (?,?,?,?)",
            (url, title, folder, self._clock()),
        )
        return int(cur.lastrowid or 0)

    def bookmarks(self) -> list[Bookmark]:
        rows = self._db.execute(
            "SELECT id, url, title, folder FROM bookmarks ORDER BY folder, id"
        ).fetchall()
        return [Bookmark(*r) for r in rows]

    def bookmark_for(self, url: str) -> Bookmark | None:
        row = self._db.execute(
            "SELECT id, url, title, folder FROM bookmarks WHERE url = ? ORDER BY id LIMIT 1",
            (url,),
        ).fetchone()
        return Bookmark(*row) if row else None

    def update_bookmark(self, bookmark_id: int, *, title: str, url: str, folder: str) -> None:
        self._db.execute(
            "UPDATE bookmarks SET title = ?, url = ?, folder = ? WHERE id = ?",
            (title, url, folder, bookmark_id),
        )

    def delete_bookmark(self, bookmark_id: int) -> None:
        self._db.execute("DELETE FROM bookmarks WHERE id = ?", (bookmark_id,))

    # --- site permissions ----------------------------------------------------------------

    def permission(self, origin: str, feature: str) -> bool | None:
        row = self._db.execute(
            "SELECT allowed FROM permissions WHERE origin = ? AND feature = ?", (origin, feature)
        ).fetchone()
        return None if row is None else bool(row[0])

    def set_permission(self, origin: str, feature: str, allowed: bool | None) -> None:
        if allowed is None:
            self._db.execute(
                "DELETE FROM permissions WHERE origin = ? AND feature = ?", (origin, feature)
            )
        else:
            self._db.execute(
                "INSERT OR REPLACE INTO permissions VALUES (?, ?, ?, ?)",
                (origin, feature, int(allowed), self._clock()),
            )

    def clear_permissions(self, since: float | None = None) -> int:
        """Forget the decisions made at or after ``since`` (all when None); returns how many."""
        if since is None:
            return int(self._db.execute("DELETE FROM permissions").rowcount)
        return int(
            self._db.execute("DELETE FROM permissions WHERE decided >= ?", (since,)).rowcount
        )

    def permissions(self) -> list[tuple[str, str, bool]]:
        rows = self._db.execute(
            "SELECT origin, feature, allowed FROM permissions ORDER BY origin, feature"
        )
        return [(o, f, bool(a)) for o, f, a in rows]

    # --- settings and the session --------------------------------------------------------

    def setting(self, key: str, default: str) -> str:
        row = self._db.execute("SELECT value FROM settings WHERE key = ?", (key,)).fetchone()
        return str(row[0]) if row else default

    def set_setting(self, key: str, value: str) -> None:
        self._db.execute("INSERT OR REPLACE INTO settings VALUES (?, ?)", (key, value))

    def save_session(self, session: object) -> None:
        self.set_setting("session", json.dumps(session))

    def load_session(self) -> object:
        try:
            return json.loads(self.setting("session", "null"))
        except json.JSONDecodeError:
            return None


def _host_part(url: str) -> str:
    rest = url.split("://", 1)[-1].lower()
    return rest[4:] if rest.startswith("www.") else rest


def _visits_by_page(db: sqlite3.Connection, since: float | None) -> list[tuple[int, list[float]]]:
    if since is None:
        return []
    grouped: dict[int, list[float]] = {}
    rows = db.execute(
        "SELECT page_id, at FROM visits WHERE page_id IN"
        " (SELECT DISTINCT page_id FROM visits v JOIN pages p ON p.id = v.page_id"
        "  WHERE p.last_visit >= ?)",
        (since,),
    )
    for page_id, at in rows:
        grouped.setdefault(page_id, []).append(at)
    return list(grouped.items())
