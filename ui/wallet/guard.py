"""Saving amounts the user typed: read every field or name the bad one; confirm big limits.

A rate above 5 USD an hour, or a cap letting more than 100 USD a month go (in the asset's
terms, :mod:`wallet.guard_rails`), is saved only after a question that states the monthly
worst case. The question is a real ``QMessageBox`` (object name ``confirm_limits``).
"""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from ui.wallet.context import WalletContext
from ui.wallet.fields import AmountField
from wallet.amounts import AmountError
from wallet.budgets import Asset, GlobalPolicy, SitePolicy, effective
from wallet.guard_rails import (
    Limits,
    budget_needs_confirmation,
    monthly_worst_case,
    needs_confirmation,
)


def read_fields(fields: Sequence[AmountField]) -> list[int | None]:
    """Every field's amount, in order.

    Raises:
        AmountError: the first field that holds no amount, named ("Cap per day: ...").
    """
    values: list[int | None] = []
    for f in fields:
        try:
            values.append(f.value())
        except AmountError as e:
            f.setFocus()
            raise AmountError(f"{f.accessibleName()}: {f.error() or e}") from None
    return values


def show_policy(
    fields: Sequence[AmountField], ctx: WalletContext, policy: SitePolicy, glob: GlobalPolicy
) -> None:
    """Show ``policy``'s own rate and caps in ``fields`` (rate, day, month, total): empty
    where the site follows the default, which the empty field then names."""
    d = glob.defaults
    asset = glob.budget_asset
    for field, value, default in zip(
        fields,
        (policy.rate_per_hour, policy.cap_day, policy.cap_month, policy.cap_total),
        (d.rate_per_hour, d.cap_day, d.cap_month, d.cap_total),
        strict=True,
    ):
        field.set_asset(asset)
        shown = ctx.money(default, asset) if default is not None else "no limit"
        field.set_empty_text(f"default: {shown}")
        field.set_value(value)


def confirm_site_policy(
    parent: QWidget, ctx: WalletContext, policy: SitePolicy, before: SitePolicy
) -> bool:
    """True unless ``policy`` sets new big limits and the user does not confirm them."""
    glob = ctx.service.global_policy()
    if limits_of(policy) == limits_of(before):
        return True
    eff = effective(policy, glob.defaults)
    return confirm_limits(
        parent, ctx, policy.site, asked=limits_of(policy), limits=limits_of(eff), glob=glob
    )


def limits_of(p: object) -> Limits:
    """The rate and caps of a policy, the defaults or an effective policy."""
    return Limits(
        getattr(p, "rate_per_hour", None),
        getattr(p, "cap_day", None),
        getattr(p, "cap_month", None),
        getattr(p, "cap_total", None),
    )


def confirm_limits(
    parent: QWidget,
    ctx: WalletContext,
    who: str,
    *,
    asked: Limits,
    limits: Limits,
    glob: GlobalPolicy,
) -> bool:
    """True unless ``asked`` (what the user set) is big and they do not confirm it.

    ``limits`` are the limits then in force (the user's values, the defaults for the rest):
    the worst case is stated for them.
    """
    asset, monthly_budget = glob.budget_asset, glob.monthly_budget
    if not needs_confirmation(asked, asset):
        return True
    worst = monthly_worst_case(limits)
    bounded = monthly_worst_case(limits, monthly_budget)
    if worst is None:
        text = f"{who} could be paid without any limit in a month."
    else:
        text = f"In the worst case, {who} could be paid {ctx.money(worst, asset)} a month."
    if monthly_budget is not None and bounded is not None and bounded != worst:
        text += (
            f" Your global monthly budget of {ctx.money(monthly_budget, asset)} still "
            "stops all sites together."
        )
    return _ask(parent, "Allow this much?", text)


def confirm_budget(parent: QWidget, ctx: WalletContext, budget: int | None, asset: Asset) -> bool:
    """True unless the global monthly budget is big and the user does not confirm it."""
    if not budget_needs_confirmation(budget, asset) or budget is None:
        return True
    return _ask(
        parent,
        "Allow this much?",
        f"All sites together could then be paid {ctx.money(budget, asset)} a month.",
    )


def _ask(parent: QWidget, title: str, text: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Warning, title, text, parent=parent)
    box.setObjectName("confirm_limits")
    box.setTextFormat(Qt.TextFormat.PlainText)
    allow = box.addButton("&Allow", QMessageBox.ButtonRole.AcceptRole)
    box.addButton(QMessageBox.StandardButton.Cancel)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.exec()
    return box.clickedButton() is allow


__all__ = [
    "confirm_budget",
    "confirm_limits",
    "confirm_site_policy",
    "limits_of",
    "read_fields",
]
