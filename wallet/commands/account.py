"""``trickle account [--json]``: the wallet's own accounts (network, address, balance).

A table for people; ``--json`` prints a JSON array with the balance as a decimal string at the
account's scale. A profile never opened has no account: an empty table or ``[]``.
"""

from __future__ import annotations

import argparse
from typing import Any

from wallet.amounts import decimal_string, format_amount
from wallet.commands.common import describe, fail
from wallet.commands.output import (
    add_json_argument,
    add_profile_argument,
    print_result,
    print_table,
    read_only_store,
)
from wallet.errors import WalletError
from wallet.store import repo
from wallet.store.engine import transaction

HEADERS = ["Network", "Address", "Balance"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_json_argument(parser)
    add_profile_argument(parser)


def run(args: argparse.Namespace) -> int:
    try:
        engine = read_only_store(args.profile)
        accounts = []
        if engine is not None:
            try:
                with transaction(engine, readonly=True) as conn:
                    accounts = repo.list_accounts(conn)
            finally:
                engine.dispose()
    except WalletError as e:
        return fail(describe(e))
    docs: list[dict[str, Any]] = [
        {
            "network": a.network,
            "address": a.address,
            "asset": {"code": a.asset.code, "scale": a.asset.scale},
            "balance": decimal_string(a.balance, a.asset.scale),
        }
        for a in accounts
    ]
    rows = [[a.network, a.address, format_amount(a.balance, a.asset)] for a in accounts]
    return print_result(args.json, docs, lambda: print_table(HEADERS, rows))
