"""``trickle budget show [ORIGIN]`` / ``trickle budget set ORIGIN ...`` / ``... reset ORIGIN``.

Amounts are decimal text in the budget asset (``--month 2.50`` is 2.50 USD when budgets are in
USD); ``default`` clears a field so the site follows the defaults again. Writes go through the
wallet service (one transaction each), so a running browser applies them within its policy
cache's second; ``--pause`` and ``--block`` stop payments at once.
"""

from __future__ import annotations

import argparse
import json
from datetime import UTC, datetime
from typing import Any

from wallet.amounts import AmountError, decimal_string, parse_amount
from wallet.budgets import Asset, GlobalPolicy, SitePolicy, SiteState, effective
from wallet.commands.common import describe, fail
from wallet.commands.history import add_profile_argument, open_database
from wallet.errors import WalletError
from wallet.reports import local_zone, site_spend
from wallet.service import WalletService
from wallet.store import open_store

_FIELDS = (
    ("rate", "rate_per_hour"),
    ("day", "cap_day"),
    ("month", "cap_month"),
    ("total", "cap_total"),
)


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="action", required=True)
    show = sub.add_parser("show", help="the global budget, the defaults and the sites' policies")
    show.add_argument("origin", nargs="?", help="only this site")
    add_profile_argument(show)
    put = sub.add_parser("set", help="change a site's rate of pay, caps or state")
    put.add_argument("origin")
    for flag, what in (
        ("--rate", "rate of pay per hour"),
        ("--day", "cap per day"),
        ("--month", "cap per month"),
        ("--total", "cap in total"),
    ):
        put.add_argument(flag, metavar="AMOUNT", help=f"{what} ('default' to follow the default)")
    state = put.add_mutually_exclusive_group()
    state.add_argument("--pause", action="store_true", help="stop paying this site for now")
    state.add_argument("--resume", action="store_true", help="pay this site again")
    state.add_argument("--block", action="store_true", help="never pay this site")
    add_profile_argument(put)
    reset = sub.add_parser("reset", help="forget a site's policy: back to the defaults")
    reset.add_argument("origin")
    add_profile_argument(reset)


def _amount(v: int | None, asset: Asset) -> str | None:
    return None if v is None else decimal_string(v, asset.scale)


def _site_doc(svc: WalletService, glob: GlobalPolicy, policy: SitePolicy) -> dict[str, Any]:
    a = glob.budget_asset
    eff = effective(policy, glob.defaults)
    spend = site_spend(svc, policy.site, datetime.now(UTC), local_zone())
    return {
        "site": policy.site,
        "state": policy.state.value,
        "set": {f: _amount(getattr(policy, attr), a) for f, attr in _FIELDS},
        "effective": {f: _amount(getattr(eff, attr), a) for f, attr in _FIELDS},
        "spent": {
            period: {asset.code: decimal_string(v, asset.scale) for asset, v in values.items()}
            for period, values in (
                ("today", spend.today),
                ("month", spend.month),
                ("total", spend.total),
            )
        },
    }


def _show(svc: WalletService, origin: str | None) -> dict[str, Any]:
    glob = svc.global_policy()
    a = glob.budget_asset
    policies = [svc.site_policy(origin)] if origin else svc.list_site_policies()
    d = glob.defaults
    return {
        "asset": {"code": a.code, "scale": a.scale},
        "enabled": glob.enabled,
        "monthlyBudget": _amount(glob.monthly_budget, a),
        "defaults": {f: _amount(getattr(d, attr), a) for f, attr in _FIELDS},
        "sites": [_site_doc(svc, glob, p) for p in policies],
    }


def _set(svc: WalletService, args: argparse.Namespace) -> dict[str, Any]:
    glob = svc.global_policy()
    old = svc.site_policy(args.origin)
    values: dict[str, Any] = {attr: getattr(old, attr) for _, attr in _FIELDS}
    for flag, attr in _FIELDS:
        text = getattr(args, flag)
        if text is None:
            continue
        values[attr] = None if text == "default" else parse_amount(text, glob.budget_asset.scale)
    state = old.state
    if args.pause:
        state = SiteState.PAUSED
    elif args.block:
        state = SiteState.BLOCKED
    elif args.resume:
        state = SiteState.ENABLED
    policy = SitePolicy(site=args.origin, state=state, **values)
    svc.set_site_policy(policy)
    return _site_doc(svc, glob, policy)


def run(args: argparse.Namespace) -> int:
    tz = local_zone()
    try:
        engine = open_store(open_database(args.profile))
    except WalletError as e:
        return fail(describe(e))
    svc = WalletService(engine, tz=tz)
    try:
        if args.action == "show":
            doc = _show(svc, args.origin)
        elif args.action == "reset":
            svc.reset_site_policy(args.origin)
            doc = _show(svc, args.origin)
        else:
            doc = _set(svc, args)
    except AmountError as e:
        return fail(f"{e} (amounts are decimals in the budget asset, e.g. 0.60)")
    except WalletError as e:
        return fail(describe(e))
    finally:
        engine.dispose()
    print(json.dumps(doc), flush=True)
    return 0
