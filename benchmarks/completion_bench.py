"""Address bar completion over 100,000 visited pages: time to the first suggestions.

    .venv/bin/python benchmarks/completion_bench.py [--pages 100000] [--runs 30]

Fills a real ``browsing.sqlite`` (WAL) with ``--pages`` visited pages spread over a year (host
names and paths from a small vocabulary, so that typed prefixes match many pages, few or none),
then times ``BrowsingStore.suggest`` — what the address bar calls on each keystroke — for
prefixes a person types: one letter, a word, a host, and text that matches nothing (the whole
table is scanned). Prints the median and worst per query kind; target: first suggestions
within 30 ms. The yardstick, measured in the same run: a ``SELECT`` of the 8 best-scored pages
with no text filter (the least any ranked completion costs on this file).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from ui.browser.storage import BrowsingStore

WORDS = (
    "news",
    "weather",
    "recipes",
    "music",
    "video",
    "docs",
    "blog",
    "shop",
    "travel",
    "maps",
    "mail",
    "forum",
    "wiki",
    "code",
    "sports",
    "science",
    "health",
    "finance",
    "games",
    "photos",
    "books",
    "movies",
    "jobs",
    "learn",
    "cloud",
    "search",
    "status",
)
TLDS = ("com", "org", "net", "io", "dev", "co.uk", "de", "fr")
YEAR = 365 * 86_400.0
NOW = 1_800_000_000.0


def fill(store: BrowsingStore, pages: int, rng: random.Random) -> None:
    entries = []
    for n in range(pages):
        host = f"{rng.choice(WORDS)}{rng.randrange(2000)}.{rng.choice(TLDS)}"
        path = "/".join(rng.choice(WORDS) for _ in range(rng.randrange(1, 4)))
        title = " ".join(rng.choice(WORDS).title() for _ in range(rng.randrange(2, 7)))
        entries.append((f"https://{host}/{path}/{n}", title, NOW - rng.random() * YEAR))
    store.import_pages(entries)


def timed(store: BrowsingStore, text: str) -> float:
    start = time.perf_counter()
    store.suggest(text)
    return (time.perf_counter() - start) * 1000


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--pages", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=30)
    args = parser.parse_args()
    rng = random.Random(21)
    with tempfile.TemporaryDirectory() as tmp:
        store = BrowsingStore.open(Path(tmp), clock=lambda: NOW)
        start = time.perf_counter()
        fill(store, args.pages, rng)
        print(f"filled {args.pages:,} pages in {time.perf_counter() - start:.1f} s")
        kinds = {
            "one letter": ["n", "w", "r", "m"],
            "a word": ["news", "recipes", "docs", "travel"],
            "a host": ["weather12", "code1999", "maps7.de", "wiki3"],
            "no match": ["zzqx", "interledger", "qqq", "xyzzy"],
        }
        worst_median = 0.0
        for kind, texts in kinds.items():
            times = [timed(store, rng.choice(texts)) for _ in range(args.runs)]
            median = statistics.median(times)
            worst_median = max(worst_median, median)
            print(f"{kind:>10}: median {median:6.2f} ms, max {max(times):6.2f} ms")
        base = []
        for _ in range(args.runs):
            t0 = time.perf_counter()
            store._db.execute("SELECT url, title FROM pages ORDER BY score DESC LIMIT 8").fetchall()
            base.append((time.perf_counter() - t0) * 1000)
        yardstick = statistics.median(base)
        print(
            f"first suggestions: worst median {worst_median:.2f} ms (target <= 30 ms, "
            f"ratio {worst_median / 30:.2f}); yardstick, 8 best pages unfiltered: "
            f"{yardstick:.3f} ms (ratio {worst_median / max(yardstick, 1e-6):.0f}x)"
        )
        store.close()


if __name__ == "__main__":
    main()
