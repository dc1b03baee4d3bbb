"""``trickle sites [--json]``: every site with its state, rate, caps and what it was paid.

A table for people; ``--json`` prints a JSON array (one object per site, amounts as decimal
strings at their asset's scale). A profile never opened has no sites: an empty table or ``[]``.
"""

from __future__ import annotations

import argparse
from datetime import UTC, datetime
from typing import Any

from wallet.amounts import decimal_string, format_amount
from wallet.budgets import Asset, SiteState, effective
from wallet.commands.common import describe, fail
from wallet.commands.output import (
    add_json_argument,
    add_profile_argument,
    print_result,
    print_table,
    read_only_store,
)
from wallet.errors import WalletError
from wallet.reports import local_zone, spend_by_site
from wallet.service import WalletService

HEADERS = ["Site", "State", "Rate/hour", "This month", "In total"]
STATE_WORDS = {SiteState.ENABLED: "paid", SiteState.PAUSED: "paused", SiteState.BLOCKED: "blocked"}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    add_json_argument(parser)
    add_profile_argument(parser)


def _amounts(values: dict[Asset, int]) -> dict[str, str]:
    return {a.code: decimal_string(v, a.scale) for a, v in sorted(values.items(), key=str)}


def _shown(values: dict[Asset, int], empty: Asset) -> str:
    if not values:
        return format_amount(0, empty)
    return " · ".join(format_amount(v, a, max_digits=4) for a, v in sorted(values.items(), key=str))


def site_list(svc: WalletService) -> tuple[list[dict[str, Any]], list[list[str]]]:
    """Every site with a policy or a payment: JSON objects and table rows, by origin."""
    glob = svc.global_policy()
    a = glob.budget_asset
    policies = {p.site: p for p in svc.list_site_policies()}
    spend = spend_by_site(svc, datetime.now(UTC), local_zone())
    docs: list[dict[str, Any]] = []
    rows: list[list[str]] = []
    for site in sorted(set(policies) | set(spend)):
        eff = effective(policies.get(site), glob.defaults)
        month, total = spend.get(site, ({}, {}))
        docs.append(
            {
                "site": site,
                "state": eff.state.value,
                "ratePerHour": decimal_string(eff.rate_per_hour, a.scale),
                "month": _amounts(month),
                "total": _amounts(total),
            }
        )
        rows.append(
            [
                site,
                STATE_WORDS[eff.state],
                format_amount(eff.rate_per_hour, a, max_digits=4),
                _shown(month, a),
                _shown(total, a),
            ]
        )
    return docs, rows


def run(args: argparse.Namespace) -> int:
    try:
        engine = read_only_store(args.profile)
        docs: list[dict[str, Any]] = []
        rows: list[list[str]] = []
        if engine is not None:
            try:
                docs, rows = site_list(WalletService(engine, tz=local_zone()))
            finally:
                engine.dispose()
    except WalletError as e:
        return fail(describe(e))
    return print_result(args.json, docs, lambda: print_table(HEADERS, rows))
