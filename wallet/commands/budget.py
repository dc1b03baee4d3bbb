"""``trickle budget``: the global monthly budget, the defaults and each site's rate, caps, state.

    trickle budget [show [ORIGIN]]          a table (``--json``: one JSON object)
    trickle budget monthly AMOUNT|none      the global monthly budget, all sites together
    trickle budget set ORIGIN [--rate A] [--day A] [--month A] [--total A] [--pause|--block|...]
    trickle budget reset ORIGIN             the site follows the defaults again
    trickle budget forget ORIGIN [--history]   ... and, with --history, its history is deleted

Amounts are decimal text in the budget asset (``--month 2.50`` is 2.50 USD when budgets are in
USD), read by the same parser as the wallet window's fields (``wallet.amounts``): "1,5" is
refused with "did you mean 1.5?". ``default`` clears a site's field. A rate above 5 USD an hour
or a cap letting more than 100 USD a month go is refused unless ``--confirm`` is given; the
refusal states the monthly worst case. ORIGIN must be an origin and is normalised
(``HTTPS://News.Example/`` is ``https://news.example``).

Writes go through the wallet service (one transaction each), so a running browser applies them
within its policy cache's second; ``--pause`` and ``--block`` stop payments at once. ``show`` on
a profile never opened prints what a new profile starts with and no sites, and exits 0.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from wallet.amounts import AmountError, decimal_string, format_amount, parse_amount
from wallet.budgets import USD9, Asset, GlobalPolicy, SitePolicy, SiteState, effective
from wallet.commands.common import describe, fail
from wallet.commands.output import (
    add_json_argument,
    add_profile_argument,
    print_result,
    print_table,
    profile_database,
    read_only_store,
)
from wallet.errors import WalletError
from wallet.guard_rails import (
    Limits,
    budget_needs_confirmation,
    monthly_worst_case,
    needs_confirmation,
    new_profile_monthly_budget,
)
from wallet.origins import normalise_origin
from wallet.reports import SiteSpend, local_zone, site_spend
from wallet.service import WalletService
from wallet.store import open_store

_FIELDS = (
    ("rate", "rate_per_hour"),
    ("day", "cap_day"),
    ("month", "cap_month"),
    ("total", "cap_total"),
)
TABLE_HEADERS = [
    "Site",
    "State",
    "Rate/hour",
    "Cap/day",
    "Cap/month",
    "Cap total",
    "Today",
    "This month",
    "In total",
]


def _options(parser: argparse.ArgumentParser, *, top: bool) -> None:
    """``--profile`` and ``--json`` on ``trickle budget`` and on each action (either place)."""
    if top:
        add_profile_argument(parser)
        add_json_argument(parser)
        return
    parser.add_argument("--profile", metavar="DIR", default=argparse.SUPPRESS, help="as above")
    parser.add_argument("--json", action="store_true", default=argparse.SUPPRESS, help="JSON")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    _options(parser, top=True)
    sub = parser.add_subparsers(dest="action")
    show = sub.add_parser("show", help="the global budget, the defaults and the sites (default)")
    show.add_argument("origin", nargs="?", help="only this site")
    _options(show, top=False)
    monthly = sub.add_parser("monthly", help="set the global monthly budget (all sites together)")
    monthly.add_argument("amount", metavar="AMOUNT", help="an amount, or 'none' for no limit")
    monthly.add_argument("--confirm", action="store_true", help="allow more than 100 USD a month")
    _options(monthly, top=False)
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
    put.add_argument("--confirm", action="store_true", help="allow a rate or cap above the limits")
    _options(put, top=False)
    reset = sub.add_parser("reset", help="forget a site's policy: back to the defaults")
    reset.add_argument("origin")
    _options(reset, top=False)
    forget = sub.add_parser(
        "forget", help="forget a site: its policy, and with --history its history"
    )
    forget.add_argument("origin")
    forget.add_argument("--history", action="store_true", help="also delete its payment history")
    _options(forget, top=False)


def _amount(v: int | None, asset: Asset) -> str | None:
    return None if v is None else decimal_string(v, asset.scale)


def _shown(v: int | None, asset: Asset) -> str:
    return "no limit" if v is None else format_amount(v, asset, max_digits=4)


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


def _doc(glob: GlobalPolicy, sites: list[dict[str, Any]]) -> dict[str, Any]:
    a = glob.budget_asset
    d = glob.defaults
    return {
        "asset": {"code": a.code, "scale": a.scale},
        "enabled": glob.enabled,
        "monthlyBudget": _amount(glob.monthly_budget, a),
        "defaults": {f: _amount(getattr(d, attr), a) for f, attr in _FIELDS},
        "sites": sites,
    }


def _show(svc: WalletService, origin: str | None) -> dict[str, Any]:
    glob = svc.global_policy()
    policies = [svc.site_policy(origin)] if origin else svc.list_site_policies()
    return _doc(glob, [_site_doc(svc, glob, p) for p in policies])


def _confirmed(asked: Limits, limits: Limits, glob: GlobalPolicy, confirm: bool, who: str) -> None:
    """Raise unless ``asked`` is within the thresholds or ``--confirm`` was given.

    The refusal states the worst case under ``limits``, the limits then in force.
    """
    a = glob.budget_asset
    if confirm or not needs_confirmation(asked, a):
        return
    worst = monthly_worst_case(limits)
    what = "without limit" if worst is None else f"up to {_shown(worst, a)}"
    raise WalletError(f"{who} could be paid {what} a month; add --confirm to allow that")


def _set(svc: WalletService, args: argparse.Namespace) -> dict[str, Any]:
    glob = svc.global_policy()
    site = normalise_origin(args.origin)
    old = svc.site_policy(site)
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
    policy = SitePolicy(site=site, state=state, **values)
    eff = effective(policy, glob.defaults)
    limits = Limits(eff.rate_per_hour, eff.cap_day, eff.cap_month, eff.cap_total)
    asked = Limits(**{attr: getattr(policy, attr) for _, attr in _FIELDS})
    if asked != Limits(**{attr: getattr(old, attr) for _, attr in _FIELDS}):
        _confirmed(asked, limits, glob, args.confirm, site)
    svc.set_site_policy(policy)
    return _site_doc(svc, glob, policy)


def _monthly(svc: WalletService, args: argparse.Namespace) -> None:
    glob = svc.global_policy()
    a = glob.budget_asset
    text = args.amount.strip().lower()
    budget = None if text in ("none", "no limit") else parse_amount(args.amount, a.scale)
    if budget_needs_confirmation(budget, a) and not args.confirm:
        raise WalletError(
            f"all sites together could be paid {_shown(budget, a)} a month; "
            "add --confirm to allow that"
        )
    svc.set_global_policy(replace(glob, monthly_budget=budget))


def _print_table(glob: GlobalPolicy, rows: list[tuple[SitePolicy, SiteSpend]]) -> None:
    a, d = glob.budget_asset, glob.defaults

    def spent(values: dict[Asset, int]) -> str:
        if not values:
            return _shown(0, a)
        return " · ".join(_shown(v, asset) for asset, v in sorted(values.items(), key=str))

    print(f"Monthly budget (all sites): {_shown(glob.monthly_budget, a)}")
    print(f"Paying sites: {'on' if glob.enabled else 'off'}")
    print(
        f"Other sites: {_shown(d.rate_per_hour, a)} an hour; caps {_shown(d.cap_day, a)} a day, "
        f"{_shown(d.cap_month, a)} a month, {_shown(d.cap_total, a)} in total"
    )
    print()
    table = []
    for policy, spend in rows:
        eff = effective(policy, d)
        table.append(
            [
                policy.site,
                _STATE_WORDS[policy.state],
                *(_shown(getattr(eff, attr), a) for _, attr in _FIELDS),
                spent(spend.today),
                spent(spend.month),
                spent(spend.total),
            ]
        )
    print_table(TABLE_HEADERS, table)


_STATE_WORDS = {SiteState.ENABLED: "paid", SiteState.PAUSED: "paused", SiteState.BLOCKED: "blocked"}


def _act(svc: WalletService, action: str, args: argparse.Namespace) -> tuple[Any, list[str]]:
    """Do ``action``; returns its JSON document and the sites the table shows."""
    origin = getattr(args, "origin", None)
    site = normalise_origin(origin) if origin else None
    if action == "set":
        doc = _set(svc, args)
        return doc, [doc["site"]]
    if action == "reset" and site is not None:
        svc.reset_site_policy(site)
    elif action == "forget" and site is not None:
        svc.forget_site(site, history=args.history)
    elif action == "monthly":
        _monthly(svc, args)
    doc = _show(svc, site)
    return doc, [s["site"] for s in doc["sites"]]


def run(args: argparse.Namespace) -> int:
    action = args.action or "show"
    tz = local_zone()
    try:
        engine = read_only_store(args.profile)
        if engine is None and action != "show":
            engine = open_store(profile_database(args.profile))  # a write creates the profile
        if engine is None:
            glob = replace(GlobalPolicy(), monthly_budget=new_profile_monthly_budget(USD9))
            doc: Any = _doc(glob, [])
            rows: list[tuple[SitePolicy, SiteSpend]] = []
        else:
            svc = WalletService(engine, tz=tz)
            try:
                doc, sites = _act(svc, action, args)
                glob = svc.global_policy()
                now = datetime.now(UTC)
                rows = [(svc.site_policy(s), site_spend(svc, s, now, tz)) for s in sites]
            finally:
                engine.dispose()
    except AmountError as e:
        return fail(f"{e} (amounts are decimals in the budget asset, e.g. 0.60)")
    except WalletError as e:
        return fail(describe(e))
    return print_result(args.json, doc, lambda: _print_table(glob, rows))
