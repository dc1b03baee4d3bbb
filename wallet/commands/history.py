"""``trickle history [--site ORIGIN] [--since DATE] [--csv]``: the payment history for scripts.

Reads the profile's database (safe while the browser runs: WAL, read-only transactions). A
profile never opened has no history: the CSV header alone, or nothing, and exit 0. Origins are
normalised (``HTTPS://News.Example/`` is ``https://news.example``).
Prints one JSON object per history row (the CSV's columns as keys), or with ``--csv`` the same
rows as the wallet window's "Export CSV": header row, ISO 8601 local times, amounts as decimal
strings at their asset's scale.
"""

from __future__ import annotations

import argparse
import json
import sys
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

from wallet.commands.common import describe, fail
from wallet.commands.output import add_profile_argument, read_only_store
from wallet.errors import WalletError
from wallet.origins import normalise_origin
from wallet.reports import CSV_HEADER, HistoryFilter, HistoryReader, csv_record, local_zone


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--site", metavar="ORIGIN", help="only this site, e.g. https://news.example"
    )
    parser.add_argument("--provider", metavar="ORIGIN", help="only payments through this provider")
    parser.add_argument(
        "--since", metavar="DATE", help="from this local date (YYYY-MM-DD) or ISO 8601 time"
    )
    parser.add_argument("--until", metavar="DATE", help="before this local date or time")
    parser.add_argument("--csv", action="store_true", help="CSV with a header row, not JSON")
    add_profile_argument(parser)


def parse_when(text: str, tz: ZoneInfo) -> datetime:
    """``YYYY-MM-DD`` (local midnight) or an ISO 8601 time (local if it has no offset).

    Raises:
        WalletError: neither.
    """
    try:
        if len(text) == 10:
            return datetime.combine(date.fromisoformat(text), time(0), tzinfo=tz)
        when = datetime.fromisoformat(text)
    except ValueError as e:
        raise WalletError(f"{text!r} is not a date (YYYY-MM-DD) or ISO 8601 time") from e
    return when if when.tzinfo is not None else when.replace(tzinfo=tz)


def run(args: argparse.Namespace) -> int:
    tz = local_zone()
    try:
        flt = HistoryFilter(
            site=normalise_origin(args.site) if args.site else None,
            provider=normalise_origin(args.provider) if args.provider else None,
            start=parse_when(args.since, tz) if args.since else None,
            end=parse_when(args.until, tz) if args.until else None,
        )
        engine = read_only_store(args.profile)
    except WalletError as e:
        return fail(describe(e))
    rows = HistoryReader(engine).iter_rows(flt) if engine is not None else iter(())
    try:
        out = sys.stdout
        if args.csv:
            import csv

            writer = csv.writer(out, lineterminator="\r\n")
            writer.writerow(CSV_HEADER)
            for row in rows:
                writer.writerow(csv_record(row, tz))
        else:
            for row in rows:
                out.write(json.dumps(dict(zip(CSV_HEADER, csv_record(row, tz), strict=True))))
                out.write("\n")
        out.flush()
    except WalletError as e:
        return fail(describe(e))
    except BrokenPipeError:
        return 0
    finally:
        if engine is not None:
            engine.dispose()
    return 0
