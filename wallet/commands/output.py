"""How the read-only subcommands print: a table for people, JSON with ``--json`` for scripts.

Also where they find the profile: a profile never opened is not an error — they print an empty
result in their format (``read_only_store`` returns ``None``).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from wallet.store import database_path, open_store


def add_profile_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", metavar="DIR", help="the profile directory (default: the user's)"
    )


def add_json_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--json", action="store_true", help="JSON for scripts, not a table")


def profile_database(profile: str | None) -> Path:
    return database_path(Path(profile).expanduser() if profile else None)


def read_only_store(profile: str | None) -> Engine | None:
    """The profile's database, or ``None`` when the profile was never opened (nothing to read).

    Raises:
        StorageError: the file exists and cannot be opened.
    """
    path = profile_database(profile)
    if not path.exists():
        return None
    return open_store(path)


def print_json(doc: Any) -> None:
    print(json.dumps(doc), flush=True)


def print_result(as_json: bool, doc: Any, table: Callable[[], None]) -> int:
    """``doc`` as JSON with ``--json``, else the table ``table`` prints; the exit code (0)."""
    if as_json:
        print_json(doc)
    else:
        table()
    return 0


def print_table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
    """Columns padded to their widest cell; numbers (by header) right-aligned."""
    widths = [len(h) for h in headers]
    for row in rows:
        widths = [max(w, len(c)) for w, c in zip(widths, row, strict=True)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(c.ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    out = [line(headers), line(["-" * w for w in widths])]
    out += [line(r) for r in rows]
    sys.stdout.write("\n".join(out) + "\n")
    sys.stdout.flush()


__all__ = [
    "add_json_argument",
    "add_profile_argument",
    "print_json",
    "print_result",
    "print_table",
    "profile_database",
    "read_only_store",
]
